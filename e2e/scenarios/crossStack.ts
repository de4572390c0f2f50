/**
 * Issue 12's scenario: one stack per trust domain on one file backend with one passphrase, each
 * naming the other in `peerStacks`, brought up in the documented order (A, B, A), checked as
 * federated on both API servers; then B destroyed and removed, and A left healthy apart from the link.
 */
import { ConfigMap, EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { checkFederation } from "../checks/federation";
import { checkNothingRemains, recordInstalledCrds } from "../checks/nothingRemains";
import { checkPeerUnreadableRefused } from "../checks/peerUnreadable";
import { checkPeerWarnings, checkPublishesOwnDomainOnly } from "../checks/peerStacks";
import { checkUnlinked } from "../checks/peerUnlinked";
import { checkRemoteSecrets } from "../checks/remoteSecrets";
import { checkWorkloads } from "../checks/workloads";
import { Domain, domains } from "../clusters/domains";
import { teardown } from "../clusters/lifecycle";
import { countOps, engineLog, peerWarnings } from "../engine/events";
import { destroy, previewNoChanges } from "../engine/operations";
import { engineReadOf } from "../engine/readProbe";
import { domainConfig } from "../engine/stackConfig";
import { openStack, prepareWorkspace, pulumiEnv, stackReference } from "../engine/workspace";
import { checkPolicyPack } from "../checks/policyPack";
import { packName } from "../../policy-pack/pack";
import { root } from "../runner/paths";
import { check, exitCode, phase, phases } from "../runner/phases";
import { istiodSteps } from "../live/istiod/steps";
import { liveStop, spireLiveSteps } from "../live/steps";
import { Context, DomainExport, runChain, runSteps, Step } from "./context";
import { setup } from "./setup";

/** One team's stack: one domain, the other team's stack as its peer. */
interface Team {
    /** `a` or `b`: the suffix of its phases' names. */
    letter: string;
    stackName: string;
    domain: Domain;
    peer: Domain;
    stack?: Stack;
    upAttempted: boolean;
}

/** The cross-stack scenario's context: the two teams. */
export interface CrossStack extends Context {
    teams: [Team, Team];
}

/** The checks once A and B are linked (A, B, A deployed), in order; each needs those three `up`s. */
export const linkedChecks: Step<CrossStack>[] = [
    { name: "check-federation", run: (context, evidence) => checkFederation(context.mesh, async (domain) => (await context.exported(domain))?.trustBundle, evidence) },
    { name: "check-remote-secrets", run: (context, evidence) => checkRemoteSecrets(context.mesh, evidence) },
    { name: "check-workloads", run: (context, evidence) => checkWorkloads(context.mesh, evidence) },
    ...[0, 1].map((i) => ({
        name: `check-policy-pack-${"ab"[i]}`,
        run: (context: CrossStack, evidence: string[]) => checkPolicyPack(context.teams[i].stack!, context.repositories, packName, evidence),
    })),
];

/** Runs the scenario; its exit status. */
export async function crossStack(): Promise<number> {
    const mesh = domains.slice(0, 2);
    const teams: [Team, Team] = [
        { letter: "a", stackName: "team-a", domain: domains[0], peer: domains[1], upAttempted: false },
        { letter: "b", stackName: "team-b", domain: domains[1], peer: domains[0], upAttempted: false },
    ];
    const [a, b] = teams;
    const other = (team: Team): Team => (team === a ? b : a);
    const context: CrossStack = {
        // Bring-your-own roots here (the single-stack scenario covers generated ones).
        ...(await setup(mesh, "supplied")),
        clusters: mesh,
        mesh,
        teams,
        // A domain's export as its own stack publishes it now (not from an earlier `up`).
        exported: async (domain) => {
            const owner = teams.find((team) => team.domain === domain);
            const outputs = await owner?.stack?.outputs();
            return (outputs?.federation?.value as { domains?: Record<string, DomainExport> } | undefined)?.domains?.[domain.name];
        },
    };
    const warningsSeen: Record<string, string[]> = {};

    /** A team's stack is created just before its first `up`: until then its peer finds no such stack, as in the documented order. */
    const createStack = async (team: Team, evidence: string[]): Promise<void> => {
        team.stack = await openStack(team.stackName, context.workspace!);
        const config: ConfigMap = {
            ...domainConfig([team.domain], context.repositories, context.roots),
            exportAdminKubeconfigs: { value: "false" },
            // B opts in to removing the CRDs on destroy, A keeps the default: check-nothing-remains sees both rules.
            ...(team === b ? { removeCrdsOnDestroy: { value: "true" } } : {}),
            "peerStacks[0].stack": { value: stackReference(other(team).stackName) },
            "peerStacks[0].trustDomains[0]": { value: team.peer.trustDomain },
        };
        await team.stack.setAllConfig(config, true);
        evidence.push(`${stackReference(team.stackName)}: ${team.domain.name}/${team.domain.trustDomain}, peerStacks [${stackReference(other(team).stackName)}: ${team.peer.trustDomain}], exportAdminKubeconfigs false`);
    };

    const stacksReady = await phase("stack-a", context.ready, async (evidence) => {
        context.workspace = await prepareWorkspace(root, evidence);
        await createStack(a, evidence);
        evidence.push(`file backend ${pulumiEnv.PULUMI_BACKEND_URL}, one passphrase for both stacks`);
    });

    /** `up` of one team's stack; its peer-stack warnings must be exactly `expected` in number, each naming `names` and saying `says`. */
    const up = (name: string, needs: boolean, team: Team, expected: number, names?: string, says?: string) =>
        phase(name, needs && stacksReady, async (evidence) => {
            team.upAttempted = true;
            const events: EngineEvent[] = [];
            const result = await team.stack!.up(engineLog(name, events));
            context.deployedAt = Date.now();
            const warnings = peerWarnings(events);
            warningsSeen[name] = warnings;
            evidence.push(`${result.summary.result}: ${countOps(result.summary.resourceChanges)}`);
            for (const warning of warnings) evidence.push(`warning: ${warning}`);
            checkPeerWarnings(warnings, expected, names, says);
            checkPublishesOwnDomainOnly(team.stackName, team.domain, result.outputs, evidence);
        });

    /** What the engine answers a program reading B's outputs now; `wanted` says what it must say. */
    const engineRead = (name: string, needs: boolean, when: string, wanted: (answer: string) => void) =>
        phase(name, needs, async (evidence) => {
            const answer = await engineReadOf(b.stackName, context.workspace!);
            evidence.push(`readStackOutputs of ${stackReference(b.stackName)} ${when}: ${answer}`);
            wanted(answer);
        });
    const unknownStack = (answer: string) => check(answer.includes(`unknown stack "${stackReference(b.stackName)}"`), `the engine's answer does not say unknown stack "${stackReference(b.stackName)}"`);

    await engineRead("engine-read-b-absent", stacksReady, "before it exists", unknownStack);
    const upA1 = await up("up-a-alone", true, a, 1, stackReference(b.stackName), "does not exist on this backend");
    const stackB = await phase("stack-b", stacksReady, (evidence) => createStack(b, evidence));
    const upB = await up("up-b", stackB, b, 0);
    const upA2 = await up("up-a-again", true, a, 0);
    const linked = upA1 && upB && upA2;

    await runSteps(istiodSteps, linked, context);
    await runSteps(linkedChecks, linked, context);
    // Both domains' SPIRE live, each stack's exports read now (e2e/live/), stopped before B's destroy.
    await runChain(spireLiveSteps(), linked, context);
    await runSteps([liveStop], linked, context);

    for (const team of teams) {
        await phase(`preview-no-changes-${team.letter}`, linked, (evidence) => previewNoChanges(team.stack!, `preview-no-changes-${team.stackName}`, evidence));
    }

    // B's stack exists but A cannot find it (renamed away, as a lost permission looks to the engine): A refuses to go on.
    await phase("peer-unreadable-refused", linked, (evidence) => checkPeerUnreadableRefused({ holder: a.stack!, holderDomain: a.domain, peer: b.stack!, peerDomain: b.domain }, evidence));

    const destroyedB = await phase("destroy-b", b.upAttempted, async (evidence) => {
        await recordInstalledCrds([b.domain]);
        await destroy(b.stack!, "destroy-b", evidence);
    });

    await engineRead("engine-read-b-destroyed", destroyedB, "once destroyed", (answer) => check(answer.startsWith("resolved"), `the engine's answer for a destroyed stack is not an empty read`));
    // Destroyed, B's stack still exists, with no outputs.
    const upA3 = await up("up-a-without-b", destroyedB, a, 1, stackReference(b.stackName), `exports no "federation" output`);

    await phase("check-a-unlinked", upA3, (evidence) => checkUnlinked(a.domain, a.peer, evidence));

    // Destroyed is not gone: a removed stack is what `readStackOutputs` reports as unknown.
    const removedB = await phase("remove-b", destroyedB, async (evidence) => {
        await b.stack!.workspace.removeStack(b.stackName);
        evidence.push(`${stackReference(b.stackName)} removed from the backend`);
    });

    await engineRead("engine-read-b-removed", removedB, "once removed", unknownStack);
    await up("up-a-b-removed", removedB, a, 1, stackReference(b.stackName), "does not exist on this backend");

    const destroyedA = await phase("destroy-a", a.upAttempted, async (evidence) => {
        await recordInstalledCrds([a.domain]);
        await destroy(a.stack!, "destroy-a", evidence);
    });

    // A keeps the default (its CRDs stay on platform existing); B set removeCrdsOnDestroy (nothing stays).
    await phase("check-nothing-remains", destroyedA && destroyedB, checkNothingRemains((domain) => domain.name === a.domain.name));

    // Where a reader wants the engine's own words: every peer-stack warning per `up`.
    phases.push({ name: "warnings-seen", status: "passed", seconds: 0, evidence: Object.entries(warningsSeen).map(([name, warnings]) => `${name}: ${warnings.length === 0 ? "none" : warnings.join(" | ")}`) });

    await teardown();
    return exitCode();
}
