/**
 * Issue 11's scenario: one stack holding two domains, checked; then changes to the running mesh
 * (a certificate duration, a third domain), checked again; destroy, and nothing remains. With
 * `--break NAME` the same on a patched copy of the program, judged by breaks/verdict.ts.
 */
import { OutputMap, Stack } from "@pulumi/pulumi/automation";
import { Break, breaks } from "../breaks/catalogue";
import { breakProgram } from "../breaks/program";
import { breakVerdict } from "../breaks/verdict";
import { addDomain } from "../changes/addDomain";
import { changeCertDuration } from "../changes/certDuration";
import { refuseTrustDomainRename } from "../changes/trustDomainRename";
import { checkCacerts } from "../checks/cacerts";
import { checkCrdOrder } from "../checks/crdOrder";
import { checkFederation } from "../checks/federation";
import { checkHelmReleases } from "../checks/helmReleases";
import { checkNothingRemains, recordInstalledCrds } from "../checks/nothingRemains";
import { checkRemoteSecrets } from "../checks/remoteSecrets";
import { checkRenderedConfig } from "../checks/renderedConfig";
import { checkPolicyPack } from "../checks/policyPack";
import { checkRootKeyAbsent } from "../checks/rootKeyAbsent";
import { packName } from "../../policy-pack/pack";
import { checkWorkloads } from "../checks/workloads";
import { Domain, domains } from "../clusters/domains";
import { teardown } from "../clusters/lifecycle";
import { istiodSteps } from "../live/istiod/steps";
import { destroy, preview, previewNoChanges, upTimed } from "../engine/operations";
import { domainConfig } from "../engine/stackConfig";
import { openStack, prepareWorkspace, pulumiEnv, stateResources } from "../engine/workspace";
import { recordGeneratedRoots } from "../clusters/rootCa";
import { root } from "../runner/paths";
import { abort, exitCode, phase, phases } from "../runner/phases";
import { liveStop, spireLiveSteps } from "../live/steps";
import { Context, DomainExport, runChain, runSteps, Step } from "./context";
import { setup } from "./setup";

/** The single-stack scenario's context: its one stack and what its last `up` exported. */
export interface SingleStack extends Context {
    stack?: Stack;
    outputs: OutputMap;
    /** An `up` ran, or started: destroy must run, also after a failed one. */
    upAttempted: boolean;
}

/** What a check of federation compares: the stack's exported `trustBundle` of a domain. */
const trustBundleOf = (context: Context) => async (domain: Domain) => (await context.exported(domain))?.trustBundle;

/** The checks of the two-domain mesh the first `up` deployed, in order; each needs that `up` only. */
export const meshChecks: Step<SingleStack>[] = [
    { name: "check-crd-order", run: (context, evidence) => checkCrdOrder(context.stack!, evidence) },
    { name: "check-rendered-config", run: (context, evidence) => checkRenderedConfig(context.mesh, evidence) },
    { name: "check-federation", run: (context, evidence) => checkFederation(context.mesh, trustBundleOf(context), evidence) },
    { name: "check-cacerts", run: (context, evidence) => checkCacerts(context.mesh, evidence) },
    { name: "check-root-key-absent", run: (context, evidence) => checkRootKeyAbsent(context.mesh, evidence) },
    { name: "check-helm-releases", run: (context, evidence) => checkHelmReleases(context.mesh, evidence) },
    { name: "check-workloads", run: (context, evidence) => checkWorkloads(context.mesh, evidence) },
    { name: "check-remote-secrets", run: (context, evidence) => checkRemoteSecrets(context.mesh, evidence) },
];

/**
 * The policy pack through the CLI, after the live layers: a bug the pack also refuses (a wrong
 * endpoint SPIFFE ID, say) is then first caught where `--break` expects it, by the process's own
 * error, and the pack's refusal follows it in the report.
 */
export const policyCheck: Step<SingleStack> = {
    name: "check-policy-pack",
    run: (context, evidence) => checkPolicyPack(context.stack!, context.repositories, packName, evidence),
};

/**
 * The checks once the third domain joined, as one phase: the new cluster's own config and
 * `cacerts`, and federation, remote secrets and workloads for every pair of the grown mesh.
 */
export const threeDomainChecks: Step<SingleStack>[] = [
    {
        name: "check-three-domains",
        run: async (context, evidence) => {
            const joined = context.mesh[context.mesh.length - 1];
            await checkRenderedConfig([joined], evidence);
            await checkFederation(context.mesh, trustBundleOf(context), evidence);
            await checkCacerts([joined], evidence);
            await checkRootKeyAbsent(context.mesh, evidence);
            await checkRemoteSecrets(context.mesh, evidence);
            await checkWorkloads(context.mesh, evidence);
        },
    },
];

/**
 * Runs the scenario.
 * @param breakName a break of breaks/catalogue.ts to deploy instead of the program as it is
 * @returns the exit status: under `--break`, 0 only when the break was caught where it should be
 */
export async function singleStack(breakName?: string): Promise<number> {
    const broken: Break | undefined = breakName === undefined ? undefined : breaks[breakName];
    if (breakName !== undefined && broken === undefined) throw new Error(`--break ${breakName}: unknown; one of ${Object.keys(breaks).join(", ")}`);
    const program = broken !== undefined ? breakProgram(breakName!, broken) : root;
    // Most breaks need only the first mesh: they are caught before the third domain would come.
    const mesh = domains.slice(0, 2);
    const growing = broken === undefined || broken.needsThirdDomain === true;
    const clusters = growing ? domains : mesh;
    const context: SingleStack = {
        // The committed stacks' default: the program generates each domain's root (tls provider).
        ...(await setup(clusters, "generated")),
        clusters,
        mesh,
        outputs: {},
        upAttempted: false,
        exported: async (domain) => ((context.outputs.domains?.value ?? {}) as Record<string, DomainExport>)[domain.name],
    };

    const stackReady = await phase("stack", context.ready, async (evidence) => {
        context.workspace = await prepareWorkspace(program, evidence);
        context.stack = await openStack("e2e-local", context.workspace);
        const config = domainConfig(mesh, context.repositories, context.roots);
        await context.stack.setAllConfig(config, true);
        evidence.push(`file backend ${pulumiEnv.PULUMI_BACKEND_URL}, ${Object.keys(config).length} config keys set (samplesEnabled left at its default, true)`);
        if (broken !== undefined) evidence.push(`program: a copy in ${program}, broken on purpose: ${broken.what}`);
    });

    const previewed = await phase("preview", stackReady, (evidence) => preview(context.stack!, "preview", evidence));

    const up = await phase("up", stackReady && previewed, async (evidence) => {
        context.upAttempted = true;
        context.outputs = await upTimed(context.stack!, "up", evidence);
        context.deployedAt = Date.now();
        recordGeneratedRoots(await stateResources(context.stack!), mesh, evidence);
    });

    // The live control plane first: a break it exists to catch (a reader role without
    // endpointslices) is then caught by the process's own error, not by a static check after it.
    await runSteps(istiodSteps, up, context);
    await runSteps(meshChecks, up, context);

    // The mesh's SPIRE control plane live (e2e/live/): under a break, only when the break is the
    // live layer's to catch or asks to show what the processes say about it.
    const live = up && (broken === undefined || broken.phase.startsWith("live-") || broken.liveToo === true);
    await runChain(spireLiveSteps(), live, context);
    await runSteps([liveStop], live, context);
    await runSteps([policyCheck], up, context);

    // What follows changes a healthy mesh; a broken program has been judged by now, unless its break is in growing it.
    const healthy = up && growing;

    await phase("preview-no-changes", healthy, (evidence) => previewNoChanges(context.stack!, "preview-no-changes", evidence));

    await phase("rename-trust-domain-refused", healthy, (evidence) => refuseTrustDomainRename(context.stack!, mesh[0], 0, evidence));

    await phase("cert-duration-change", healthy, (evidence) => changeCertDuration(context.stack!, mesh, evidence));

    const added = await phase("add-third-domain", healthy, (evidence) =>
        addDomain(context.stack!, mesh, domains[2], context.repositories, context.roots, (outputs) => {
            context.outputs = outputs;
            context.deployedAt = Date.now();
            context.mesh = [...mesh, domains[2]];
        }, evidence),
    );

    await runSteps(threeDomainChecks, added, context);

    await phase("preview-no-changes-three", added, (evidence) => previewNoChanges(context.stack!, "preview-no-changes-three", evidence));

    const destroyed = await phase("destroy", context.upAttempted && context.stack !== undefined, async (evidence) => {
        await recordInstalledCrds(context.mesh);
        await destroy(context.stack!, "destroy", evidence);
    });

    // Platform existing, removeCrdsOnDestroy unset: the CRDs the charts installed stay on every cluster.
    await phase("check-nothing-remains", destroyed, checkNothingRemains(() => true));

    await teardown();
    if (broken !== undefined) {
        const caught = breakVerdict(breakName!, broken);
        return caught && phases.find((p) => p.name === "teardown")?.status === "passed" && !abort.signal.aborted ? 0 : 1;
    }
    return exitCode();
}
