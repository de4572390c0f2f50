/**
 * Issue 19's kind scenario: the committed `cluster-kind` stack as a new user brings it up, in a
 * fresh clone, with the two commands the README's Quickstart gives: `bash scripts/kind-up.sh`
 * (npm ci, `pulumi up` through the Node.js language host) and, at the end, `bash
 * scripts/kind-down.sh`. The program creates its kind clusters itself (its KindCluster commands,
 * run by the real command provider) through the test bed's stand-ins for `kind` and `docker`
 * (e2e/standins/), which bring up test-bed control planes; it generates its roots (tls provider)
 * and exposes the mesh by NodePort, as committed. Before kind-up.sh the scenario only points the
 * stack at the chart mirror (this machine cannot reach the public chart repositories).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import { checkOnlyUpdates, checkReissued } from "../changes/certDuration";
import { cacerts } from "../checks/cacerts";
import { checkKindCreated, checkKindDeleted } from "../checks/kindCommands";
import { checkStackFile } from "../checks/stackFile";
import { domains } from "../clusters/domains";
import { clustersUp, teardown } from "../clusters/lifecycle";
import { recordGeneratedRoots } from "../clusters/rootCa";
import { installCli, pulumiEnv, stateResources } from "../engine/workspace";
import { clone, cloneBackend, freshClone, kindWork, resourceSummary, standinCalls, standinState, typed, userEnv } from "../quickstart/userShell";
import { root } from "../runner/paths";
import { check, exitCode, phase } from "../runner/phases";
import { run } from "../runner/processes";
import { defaultVersions } from "../../versions";
import { DomainExport, runSteps } from "./context";
import { meshChecks, policyCheck, SingleStack } from "./singleStack";
import { setup } from "./setup";

/** An environment's set variables only, as the Automation API takes them. */
const definedOnly = (env: NodeJS.ProcessEnv): Record<string, string> =>
    Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));

/** The committed stack kind-up.sh brings up. */
const stackName = "cluster-kind";

/** What the repository looks like to git, and whether it has a local backend: a run must change neither. */
async function repositoryState(): Promise<string> {
    const status = (await run("git", ["-C", root, "status", "--porcelain"])).stdout;
    return `${status}\n.pulumi-local ${fs.existsSync(path.join(root, ".pulumi-local")) ? "present" : "absent"}`;
}

/**
 * Runs the scenario.
 * @returns the exit status
 */
export async function kindScenario(): Promise<number> {
    // The committed stack's two domains are the test bed's first two (names, trust domains, networks).
    const mesh = domains.slice(0, 2);
    const repositoryBefore = await repositoryState();
    const context: SingleStack = {
        // No clusters phase: the program's own `kind create cluster` brings them up.
        ...(await setup([], "generated")),
        clusters: mesh,
        mesh,
        outputs: {},
        upAttempted: false,
        exported: async (domain) => ((context.outputs.domains?.value ?? {}) as Record<string, DomainExport>)[domain.name],
    };
    // Whatever the stand-in brought up and a failure left up, teardown brings down.
    clustersUp.push(...mesh);
    let env: NodeJS.ProcessEnv = {};
    /** The run's CLI folder (pulumi and its language host), on the user's PATH. */
    let cli = "";

    /**
     * The clone's stack, for reading what the user's commands did (its outputs, state and history)
     * and for the policy pack's previews, which run the program: with the user's environment, so
     * that its kind and docker commands reach the stand-ins (PATH, and what they need to find the
     * test bed's clusters), as in the user's shell.
     */
    const openCloneStack = async () =>
        LocalWorkspace.selectStack(
            { stackName, workDir: clone },
            { pulumiCommand: await PulumiCommand.get({ root: path.dirname(cli) }), envVars: { ...pulumiEnv, ...definedOnly(env), PULUMI_BACKEND_URL: cloneBackend } },
        );

    const cloned = await phase("clone", context.ready, async (evidence) => {
        await freshClone(evidence);
        cli = await installCli(evidence);
        env = userEnv(cli, mesh);
        const committed = (await run("git", ["-C", root, "show", `HEAD:Pulumi.${stackName}.yaml`])).stdout;
        check(fs.readFileSync(path.join(clone, `Pulumi.${stackName}.yaml`), "utf8") === committed, `the clone's Pulumi.${stackName}.yaml is not the committed one`);
        evidence.push(`PATH: ${String(env.PATH).split(":").slice(0, 2).join(", ")} first; PULUMI_HOME ${env.PULUMI_HOME}, automatic plugin downloads off; no PULUMI_BACKEND_URL (kind-up.sh picks ${cloneBackend})`);
    });

    // What this machine forces: the public chart repositories are out of reach, so the stack is
    // pointed at the chart mirror, with the commands a user sets config with. kind-up.sh's
    // `pulumi stack select --create` then selects this stack, keeping its config.
    const mirrored = await phase("chart-mirror-config", cloned, async (evidence) => {
        const sets = Object.entries(context.repositories).map(([source, url]) => `pulumi config set --path chartRepositories.${source} ${url}`);
        const line = ["source scripts/local-backend.sh", `pulumi stack init ${stackName}`, ...sets, "pulumi config set allowPlaintextChartRepositories true"].join(" && ");
        await typed("kind-stack-init", line, env);
        evidence.push(`$ ${line}`);
    });

    const up = await phase("kind-up", mirrored, async (evidence) => {
        context.upAttempted = true;
        const output = await typed("kind-up", "bash scripts/kind-up.sh", env);
        evidence.push(`$ bash scripts/kind-up.sh: ${resourceSummary(output)}`);
        // The hint kind-up.sh ends with, read independently of the script: the clone, its own backend, and the passphrase left to the shell.
        const hint = `cd ${clone} && PULUMI_BACKEND_URL=${cloneBackend} npm run verify -- --stack ${stackName}`;
        const lines = output.split("\n").map((line) => line.trim());
        check(lines.includes(hint), `kind-up.sh did not print the verify hint ${JSON.stringify(hint)}; its last lines: ${lines.filter(Boolean).slice(-3).join(" | ")}`);
        check(lines.some((line) => line.startsWith("with PULUMI_CONFIG_PASSPHRASE exported")), "kind-up.sh did not say that the verify command needs PULUMI_CONFIG_PASSPHRASE exported");
        evidence.push(`verify hint printed: ${hint}`);
        checkKindCreated(standinCalls, mesh, defaultVersions.kindNodeImage, evidence);
        context.stack = await openCloneStack();
        context.outputs = await context.stack.outputs();
        context.deployedAt = Date.now();
        recordGeneratedRoots(await stateResources(context.stack), mesh, evidence);
    });

    await phase("check-stack-file", up, async (evidence) => {
        const committed = (await run("git", ["-C", root, "show", `HEAD:Pulumi.${stackName}.yaml`])).stdout;
        checkStackFile(committed, fs.readFileSync(path.join(clone, `Pulumi.${stackName}.yaml`), "utf8"), evidence);
    });

    await runSteps([...meshChecks, policyCheck], up, context);

    await phase("preview-no-changes", up, async (evidence) => {
        const line = `source scripts/local-backend.sh && pulumi preview --expect-no-changes --stack ${stackName}`;
        evidence.push(`$ ${line}: ${resourceSummary(await typed("kind-preview-no-changes", line, env))}`);
    });

    await phase("cert-duration-change", up, async (evidence) => {
        const before = await cacerts(mesh[0]);
        const line = `source scripts/local-backend.sh && pulumi config set istiodCertDuration 720h --stack ${stackName} && pulumi up --yes --stack ${stackName}`;
        const output = await typed("kind-cert-duration", line, env);
        const [last] = await context.stack!.history(1);
        checkOnlyUpdates(last?.resourceChanges ?? {}, "changing istiodCertDuration");
        evidence.push(`$ ${line}: ${resourceSummary(output)}`);
        await checkReissued(mesh, 720, before, evidence);
    });

    const destroyed = await phase("kind-down", context.upAttempted, async (evidence) => {
        const output = await typed("kind-down", "bash scripts/kind-down.sh", env);
        evidence.push(`$ bash scripts/kind-down.sh: ${resourceSummary(output)}`);
        const left = await stateResources(context.stack ?? (await openCloneStack()));
        check(left.length === 0, `the stack still holds ${left.length} resources after destroy`);
    });

    await phase("check-kind-deleted", destroyed, (evidence) => checkKindDeleted(standinCalls, standinState, mesh, evidence));

    await phase("repository-untouched", true, async (evidence) => {
        const after = await repositoryState();
        check(after === repositoryBefore, `the run changed the repository: before\n${repositoryBefore}\nafter\n${after}`);
        evidence.push(`git status of ${root} as before the run, no .pulumi-local written there; the run's files are under ${kindWork}`);
    });

    await teardown();
    return exitCode();
}
