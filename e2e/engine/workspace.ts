/**
 * The engine's side of a run: one file backend, one passphrase and one `PULUMI_HOME` under the
 * run's work folder, the toolchain's CLI, and stacks whose program is the project's own `index.ts`
 * run inline through the Automation API (the CLI connects to a language host in this process, so
 * no `pulumi-language-nodejs` is needed; it cannot be built here).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { bin, root, work } from "../runner/paths";
import { logged } from "../runner/processes";
import { StandIn } from "./providerStandIn";
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

/** Where every stack of a run lives and which program and CLI it runs. */
export interface Workspace {
    /** The project folder: a copy of Pulumi.yaml, beside which the stacks' settings files go (not into the repository). */
    project: string;
    pulumiCommand: PulumiCommand;
    /** The program's folder: the repository, or under `--break` a patched copy (breaks/program.ts). */
    program: string;
}

/**
 * Makes the project folder, links the toolchain's CLI and installs the provider stand-in.
 * @param standIn the kubernetes provider build and the version it is installed as
 * @param program the folder holding the program's `index.ts` and `Pulumi.yaml`
 */
export async function prepareWorkspace(standIn: StandIn, program: string): Promise<Workspace> {
    const project = path.join(work, "project");
    const cli = path.join(work, "cli", "bin");
    fs.mkdirSync(project, { recursive: true });
    fs.mkdirSync(cli, { recursive: true });
    fs.mkdirSync(path.join(work, "state"), { recursive: true });
    fs.copyFileSync(path.join(program, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
    // Providers run in the project folder, and the program names project files relative to it
    // (the Helm post-renderer in scripts/): the copy sees them as a checkout does.
    fs.symlinkSync(path.join(root, "scripts"), path.join(project, "scripts"));
    fs.symlinkSync(bin("pulumi", "pulumi"), path.join(cli, "pulumi"));
    await logged("plugin-install", path.join(cli, "pulumi"), ["plugin", "install", "resource", "kubernetes", standIn.sdkVersion, "--file", bin("provider-kubernetes", "pulumi-resource-kubernetes")], { ...process.env, ...pulumiEnv });
    return { project, pulumiCommand: await PulumiCommand.get({ root: path.dirname(cli) }), program };
}

/**
 * Creates (or selects) a stack of the project whose program is the workspace's `index.ts`.
 * @param stackName the stack, e.g. `e2e-local` or `team-a`
 * @param workspace from `prepareWorkspace`
 */
export async function openStack(stackName: string, workspace: Workspace): Promise<Stack> {
    return LocalWorkspace.createOrSelectStack(
        {
            stackName,
            projectName,
            // The program itself, unchanged (but for a `--break`): index.ts's export is the Pulumi program.
            program: async () => ((await import(path.join(workspace.program, "index.ts"))) as { default: () => Promise<Record<string, unknown>> }).default(),
        },
        { workDir: workspace.project, pulumiCommand: workspace.pulumiCommand, envVars: pulumiEnv },
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
