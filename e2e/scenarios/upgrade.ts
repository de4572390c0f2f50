/**
 * The upgrade scenario: a stack deployed by an earlier version of the program, brought up to date
 * by `pulumi up` with this one, as a user upgrading does (two domains; cluster-1 is examined closely). The earlier version is the last commit
 * that installed cert-manager as a plain Helm Release, before the program went back to the
 * `@pulumi/kubernetes-cert-manager` component (issue 19): the component's child Release must adopt
 * the deployed "cert-manager" release through its alias (components/certManagerRootCA.ts, the
 * transform), not install a second one (Helm refuses the name) and uninstall the first (which
 * would take cert-manager's CRDs and every Certificate with them). Needs the repository's history
 * (`git clone` without `--depth`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { programEntries } from "../breaks/catalogue";
import { cacerts } from "../checks/cacerts";
import { checkNothingRemains, recordInstalledCrds } from "../checks/nothingRemains";
import { domains } from "../clusters/domains";
import { teardown } from "../clusters/lifecycle";
import { recordGeneratedRoots } from "../clusters/rootCa";
import { stepsByOp } from "../engine/engineState";
import { countOps, engineLog } from "../engine/events";
import { destroy, previewNoChanges, upTimed } from "../engine/operations";
import { domainConfig } from "../engine/stackConfig";
import { openStack, prepareWorkspace, stateResources, Workspace } from "../engine/workspace";
import { kubectl } from "../runner/kubectl";
import { cache, root } from "../runner/paths";
import { check, exitCode, phase } from "../runner/phases";
import { run } from "../runner/processes";
import { setup } from "./setup";

/** The last commit of main whose program installed cert-manager as a plain helm.v3.Release. */
export const plainReleaseRevision = "dabe3f2";

const stackName = "e2e-upgrade";

/**
 * The program's files at `revision`, unpacked beside the cache (so that they resolve the
 * repository's node_modules, as a `--break` copy does).
 * @param revision a commit of the repository
 */
async function programAt(revision: string): Promise<string> {
    const folder = path.join(cache, "program-previous");
    fs.rmSync(folder, { recursive: true, force: true });
    fs.mkdirSync(folder, { recursive: true });
    const archive = path.join(cache, "program-previous.tar");
    await run("git", ["-C", root, "archive", "--format=tar", "-o", archive, revision, "--", ...programEntries]);
    await run("tar", ["-xf", archive, "-C", folder]);
    fs.rmSync(archive);
    return folder;
}

/** The revisions of the "cert-manager" Helm release (its `owner=helm` Secrets) on a cluster. */
async function certManagerReleaseRevisions(kubeconfig: string): Promise<string[]> {
    const out = await kubectl(kubeconfig, "-n", "cert-manager", "get", "secrets", "-l", "owner=helm,name=cert-manager", "-o", "jsonpath={range .items[*]}{.metadata.labels.version}={.metadata.labels.status}{\"\\n\"}{end}");
    return out.trim().split("\n").filter(Boolean).sort();
}

/** Runs the scenario; its exit status. */
export async function upgrade(): Promise<number> {
    // Two domains: the program refuses a single one without peer stacks.
    const mesh = domains.slice(0, 2);
    const context = await setup(mesh, "generated");
    let workspace: Workspace | undefined;
    let stack: Stack | undefined;
    let before: { revisions: string[]; cacertsSerial: string; crds: string } | undefined;

    const previous = await phase("up-previous", context.ready, async (evidence) => {
        const revision = (await run("git", ["-C", root, "rev-parse", "--verify", `${plainReleaseRevision}^{commit}`]).catch(() => undefined))?.stdout.trim();
        check(revision !== undefined, `commit ${plainReleaseRevision} is not in this clone's history: clone without --depth (or fetch it) to run the upgrade scenario`);
        workspace = await prepareWorkspace(await programAt(revision), evidence);
        stack = await openStack(stackName, workspace);
        await stack.setAllConfig(domainConfig(mesh, context.repositories, context.roots), true);
        await upTimed(stack, "up-previous", evidence);
        recordGeneratedRoots(await stateResources(stack), mesh, evidence);
        const plain = (await stateResources(stack)).filter((resource) => resource.type === "kubernetes:helm.sh/v3:Release" && mesh.some((domain) => resource.urn.endsWith(`::${domain.name}-cert-manager`)));
        check(plain.length === mesh.length, `the previous program (${revision.slice(0, 12)}) did not deploy cert-manager as a plain Release per domain (${mesh.map((domain) => `${domain.name}-cert-manager`).join(", ")})`);
        before = {
            revisions: await certManagerReleaseRevisions(mesh[0].kubeconfig),
            cacertsSerial: (await cacerts(mesh[0])).serialNumber,
            crds: await kubectl(mesh[0].kubeconfig, "get", "crd", "certificates.cert-manager.io", "-o", "jsonpath={.metadata.uid}"),
        };
        evidence.push(`program at ${revision.slice(0, 12)}: cert-manager as the plain Release ${plain[0].urn.split("::").pop()}; Helm release cert-manager revisions ${before.revisions.join(", ")}`);
    });

    const upgraded = await phase("up-current", previous, async (evidence) => {
        // The stack's settings file lives in the project folder, which the current program's copy replaces.
        const settings = path.join(workspace!.project, `Pulumi.${stackName}.yaml`);
        const kept = fs.readFileSync(settings, "utf8");
        workspace = await prepareWorkspace(root, evidence);
        fs.writeFileSync(settings, kept);
        stack = await openStack(stackName, workspace);
        const events: EngineEvent[] = [];
        const result = await stack.up(engineLog("up-current", events));
        evidence.push(`up: ${countOps(result.summary.resourceChanges)}`);
        const byOp = stepsByOp(events);
        const releaseSteps = [...byOp].flatMap(([op, urns]) => urns.filter((urn) => urn.includes("kubernetes:helm.sh/v3:Release") && /cert-manager(-helm)?$/.test(urn)).map((urn) => `${op} ${urn}`));
        check(!releaseSteps.some((step) => /^(create|delete|replace|create-replacement|delete-replaced) /.test(step)), `cert-manager's Release was not adopted:\n  ${releaseSteps.join("\n  ")}`);
        const child = (await stateResources(stack)).filter((resource) => resource.type === "kubernetes:helm.sh/v3:Release" && resource.urn.endsWith(`::${mesh[0].name}-cert-manager-helm`));
        check(child.length === 1 && child[0].urn.includes("kubernetes-cert-manager:index:CertManager$"), `the state holds no cert-manager Release under ${mesh[0].name}'s component after the upgrade`);
        const after = {
            revisions: await certManagerReleaseRevisions(mesh[0].kubeconfig),
            cacertsSerial: (await cacerts(mesh[0])).serialNumber,
            crds: await kubectl(mesh[0].kubeconfig, "get", "crd", "certificates.cert-manager.io", "-o", "jsonpath={.metadata.uid}"),
        };
        check(after.crds === before!.crds, "cert-manager's Certificate CRD was re-created during the upgrade (so were every Certificate and Issuer)");
        check(after.cacertsSerial === before!.cacertsSerial, "istiod's cacerts was re-issued during the upgrade");
        check(after.revisions[0] === before!.revisions[0], `the first revision of the Helm release changed (${before!.revisions.join(", ")} -> ${after.revisions.join(", ")}): a new release was installed`);
        evidence.push(`cert-manager's Release steps: ${releaseSteps.join(", ") || "none (same)"}; now ${child[0].urn.split("::").pop()} under the component`);
        evidence.push(`Helm release cert-manager revisions ${after.revisions.join(", ")} (was ${before!.revisions.join(", ")}); the Certificate CRD and istiod's cacerts (serial ${after.cacertsSerial}) unchanged`);
    });

    await phase("preview-no-changes", upgraded, (evidence) => previewNoChanges(stack!, "preview-no-changes", evidence));

    const destroyed = await phase("destroy", stack !== undefined, async (evidence) => {
        await recordInstalledCrds(mesh);
        await destroy(stack!, "destroy", evidence);
    });
    await phase("check-nothing-remains", destroyed, checkNothingRemains(() => true));
    await teardown();
    return exitCode();
}
