/**
 * The engine's side of a run: one file backend, one passphrase and one `PULUMI_HOME` under the
 * run's work folder, the toolchain's CLI with its Node.js language host beside it, as a release
 * installs them, and stacks of a project folder that holds the program as a checkout does: the CLI
 * runs `index.ts` through the language host (`runtime: nodejs` in Pulumi.yaml), as `pulumi up` in
 * a clone does.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { bin, root, work } from "../runner/paths";
import { logged } from "../runner/processes";
import { pluginBinary, resourcePlugins, sdkVersionOf } from "./plugins";
import { programEntries } from "../breaks/catalogue";
import { StateResource } from "./engineState";

/** The project's name in Pulumi.yaml: stack references on the file backend name it. */
export const projectName = "spire-istio-mesh";

/** One file backend and one passphrase for every stack of a run: what lets a stack decrypt its peer's secret output. */
export const pulumiEnv = {
    PULUMI_HOME: path.join(work, "home"),
    PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: "e2e-local",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
};

/** Where every stack of a run lives and which CLI runs it. */
export interface Workspace {
    /** The project folder: the program's files as a checkout has them, and the stacks' settings files beside them (not in the repository). */
    project: string;
    pulumiCommand: PulumiCommand;
    /** Where the project's files were copied from: the repository, or under `--break` a patched copy (breaks/program.ts). */
    program: string;
}

/** Files of a checkout that the program needs besides its own sources: the language host reads them. */
const projectFiles = ["package.json", "tsconfig.json"];

/**
 * Puts the toolchain's CLI and language host side by side in the run's CLI folder (the CLI looks
 * for its bundled language hosts next to its own resolved path) and installs every resource
 * plugin into the run's `PULUMI_HOME` at the version its SDK pins.
 * @param evidence the phase's: what was installed
 * @returns the CLI folder: what a user's PATH holds after installing Pulumi
 */
export async function installCli(evidence: string[] = []): Promise<string> {
    const cli = path.join(work, "cli", "bin");
    fs.mkdirSync(cli, { recursive: true });
    // Hard links, not symlinks: the CLI resolves its own path before looking beside it.
    for (const [family, name] of [["pulumi", "pulumi"], ["language-nodejs", "pulumi-language-nodejs"]]) {
        fs.rmSync(path.join(cli, name), { force: true });
        fs.linkSync(fs.realpathSync(bin(family, name)), path.join(cli, name));
    }
    const pulumi = path.join(cli, "pulumi");
    for (const plugin of resourcePlugins) {
        const version = sdkVersionOf(plugin.sdk);
        await logged(`plugin-install-${plugin.name}`, pulumi, ["plugin", "install", "resource", plugin.name, version, "--file", pluginBinary(plugin)], { ...process.env, ...pulumiEnv });
    }
    evidence.push(`CLI and pulumi-language-nodejs in ${cli}; resource plugins installed: ${resourcePlugins.map((plugin) => `${plugin.name} ${sdkVersionOf(plugin.sdk)}`).join(", ")}`);
    return cli;
}

/**
 * Makes the project folder and the run's CLI (`installCli`).
 * @param program the folder holding the program's `index.ts` and `Pulumi.yaml`
 * @param evidence the phase's: what was installed
 */
export async function prepareWorkspace(program: string, evidence: string[] = []): Promise<Workspace> {
    const project = path.join(work, "project");
    fs.rmSync(project, { recursive: true, force: true });
    fs.mkdirSync(project, { recursive: true });
    fs.mkdirSync(path.join(work, "state"), { recursive: true });
    for (const entry of [...programEntries, ...projectFiles]) {
        const from = fs.existsSync(path.join(program, entry)) ? program : root;
        fs.cpSync(path.join(from, entry), path.join(project, entry), { recursive: true });
    }
    // Node resolves the program's packages from the repository's node_modules (the project folder
    // lies under it); providers run in the project folder, and the program names project files
    // relative to it (the Helm post-renderer in scripts/); the policy pack is run from it.
    for (const shared of ["scripts", "policy-pack"]) fs.symlinkSync(path.join(root, shared), path.join(project, shared));
    const cli = await installCli(evidence);
    return { project, pulumiCommand: await PulumiCommand.get({ root: path.dirname(cli) }), program };
}

/**
 * Creates (or selects) a stack of the workspace's project; the CLI runs its program through the
 * language host.
 * @param stackName the stack, e.g. `e2e-local` or `team-a`
 * @param workspace from `prepareWorkspace`
 */
export async function openStack(stackName: string, workspace: Workspace): Promise<Stack> {
    return LocalWorkspace.createOrSelectStack(
        { stackName, workDir: workspace.project },
        { pulumiCommand: workspace.pulumiCommand, envVars: pulumiEnv },
    );
}

/**
 * How a stack reference names a stack on the file backend (`pulumi.getOrganization()` is "organization" there).
 * @param stackName the stack's own name
 */
export const stackReference = (stackName: string): string => `organization/${projectName}/${stackName}`;

/**
 * The resources of the stack's state (`pulumi stack export`): what engineState.ts reads.
 * @param stack a stack after an engine operation
 */
export async function stateResources(stack: Stack): Promise<StateResource[]> {
    const exported = (await stack.exportStack()) as { deployment: { resources?: StateResource[] } };
    return exported.deployment.resources ?? [];
}
