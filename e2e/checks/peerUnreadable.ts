/**
 * peer-unreadable-refused (cross-stack): the engine answers "unknown stack" for a peer stack that
 * exists but cannot be found (here renamed away, which is how a lost read permission looks to
 * it). A stack that connected that peer before refuses `up` and keeps the federation; once the
 * peer reads again, `up` changes nothing but the peer's record (lib/peerRecord.ts).
 */
import { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { Domain } from "../clusters/domains";
import { engineLog } from "../engine/events";
import { stepsByOp } from "../engine/engineState";
import { stateResources } from "../engine/workspace";
import { check } from "../runner/phases";
import { federatedTrustDomains } from "./federation";
import { remoteSecrets } from "./remoteSecrets";

/** The stack's custom resources and their IDs, sorted: what a refused `up` must leave as it was. */
async function resourceIds(stack: Stack): Promise<string[]> {
    return (await stateResources(stack)).filter((resource) => resource.custom).map((resource) => `${resource.urn} ${resource.id ?? ""}`).sort();
}

/**
 * @param stacks the holder (a stack linked to `peer`), and the peer
 * @param evidence the phase's
 */
export async function checkPeerUnreadableRefused(
    stacks: { holder: Stack; holderDomain: Domain; peer: Stack; peerDomain: Domain },
    evidence: string[],
): Promise<void> {
    const { holder, holderDomain, peer, peerDomain } = stacks;
    const peerName = peer.name;
    const before = await resourceIds(holder);
    let refusal: string | undefined;
    await peer.rename({ stackName: `${peerName}-renamed-away` });
    try {
        await holder.up(engineLog("up-peer-unreadable"));
    } catch (error) {
        refusal = (error as Error).message;
    } finally {
        await peer.rename({ stackName: peerName });
    }
    check(refusal !== undefined, `up went through while the peer ${peerName} could not be read`);
    const line = refusal!.split("\n").find((text) => text.includes("was connected by an earlier run")) ?? "";
    check(line.includes(`(${peerDomain.trustDomain}) and cannot be read now`), `up failed, but not with the unreadable peer's refusal:\n${refusal!.slice(-2000)}`);
    evidence.push(`up refused: ${line.trim().slice(0, 200)}...`);
    const after = await resourceIds(holder);
    check(JSON.stringify(after) === JSON.stringify(before), `the refused up changed the state's resources or IDs`);
    const federations = (await federatedTrustDomains(holderDomain)).items.filter((item) => item.spec.trustDomain === peerDomain.trustDomain);
    check(federations.length === 1, `${holderDomain.name}: ${federations.length} ClusterFederatedTrustDomains for ${peerDomain.trustDomain} after the refused up`);
    const secrets = (await remoteSecrets(holderDomain)).items.filter((item) => item.data[peerDomain.name] !== undefined);
    check(secrets.length === 1, `${holderDomain.name}: ${secrets.length} remote secrets for ${peerDomain.name} after the refused up`);
    evidence.push(`state: ${after.length} resources, every ID as before; ${holderDomain.name} still federates with ${peerDomain.trustDomain} and holds its remote secret`);

    const events: EngineEvent[] = [];
    await holder.up(engineLog("up-peer-readable-again", events));
    const changed = [...stepsByOp(events)].flatMap(([op, urns]) => urns.map((urn) => `${op} ${urn}`));
    const beyondRecord = changed.filter((step) => !step.includes("pulumi:index:Stash::peer-record-"));
    check(beyondRecord.length === 0, `with the peer readable again, up changed more than its record:\n  ${beyondRecord.join("\n  ")}`);
    evidence.push(`peer readable again: up changed only its record (${changed.map((step) => step.split("::").pop()).join(", ") || "nothing"})`);
}
