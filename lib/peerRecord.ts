import * as pulumi from "@pulumi/pulumi";
import { PeerDomainPlan, UnreadablePeer } from "./peerStacks";
import { recorded } from "./stateRecord";

/**
 * Which peer domains an earlier run connected, kept in the stack's state: one Stash per peer
 * domain, `peer-record-<stack>-<trust domain>`. The engine answers "unknown stack" both for a peer
 * stack that is gone and for one this login cannot read (a revoked permission, another backend
 * login, a CI token of another team), so without a record the next `pulumi up --yes` would remove
 * a working federation because of a permission. With it, a peer connected before that cannot be
 * read stops the run, unless the owner took it out of `peerStacks` or named it in
 * `peerStacksAllowedToGo`.
 *
 * How the record behaves in the engine (pulumi v3.248.0, `pkg/resource/deploy`): a Stash keeps the
 * `output` it was created with and takes a new `input` on update (builtins.go, Stash Create and
 * Update); `replaceOnChanges: ["input"]` turns a changed input into a replacement, whose `output`
 * is the new input (step_generator.go `applyReplaceOnChanges`, since the builtin Diff reports
 * `input` as the changed key). So:
 *   - connected now: declared with the "connected" value and replaceOnChanges, so it holds
 *     "connected" after this run, whatever it held before;
 *   - unreadable now, still listed, not allowed to go: declared with the "not connected" value and
 *     no replaceOnChanges, so it answers with what it held: "connected" stops the run, before
 *     anything else is declared; a record this run created says "not connected";
 *   - any other peer domain: not declared, so the engine deletes its record with the run.
 */

/** What a record holds. */
export interface PeerRecord {
    stack: string;
    trustDomain: string;
    connected: boolean;
}

/** Name of the record of one peer domain. */
export function peerRecordName(stack: string, trustDomain: string): string {
    return `peer-record-${stack}-${trustDomain}`;
}

/** Reads (and writes) one record: what the state held, or this value when it held none. */
export type RecordStore = (name: string, value: PeerRecord, opts: pulumi.CustomResourceOptions) => Promise<PeerRecord | undefined>;

/** The state's records, through the engine's Stash. */
export const stashRecordStore: RecordStore = (name, value, opts) => recorded(name, value, opts);

/** The refusal for a peer an earlier run connected that this run cannot read. */
export function unreadablePeerProblem(peer: UnreadablePeer, trustDomains: string[]): string {
    return (
        `peer stack "${peer.stack}" (peerStacks[${peer.index}]) was connected by an earlier run (${trustDomains.join(", ")}) and cannot be read now: ` +
        `it does not exist on this backend, or this login cannot read it (the engine answers "unknown stack" for both). ` +
        `Nothing was changed, since going on would remove a working federation. Restore this login's read access to that stack ` +
        `(on the local backend: the same state folder and passphrase); or, if the peer is gone for good, remove it from peerStacks ` +
        `or name it in peerStacksAllowedToGo, and run again.`
    );
}

/**
 * Records this run's peer connections and refuses a run that would silently drop a peer it
 * connected before: throws one RunError naming every such peer. Returns a warning per unreadable
 * peer that goes because `peerStacksAllowedToGo` names it.
 */
export async function checkPeerRecords(args: {
    connected: PeerDomainPlan[];
    unreadable: UnreadablePeer[];
    /** `peerStacksAllowedToGo`: the owner's word that these peers may be left out. */
    allowedToGo: string[];
    store?: RecordStore;
}): Promise<string[]> {
    const store = args.store ?? stashRecordStore;
    const connectedNow = args.connected.map(({ stack, trustDomain }) =>
        store(peerRecordName(stack, trustDomain), { stack, trustDomain, connected: true }, { replaceOnChanges: ["input"] }),
    );
    const guarded = args.unreadable.filter((peer) => !args.allowedToGo.includes(peer.stack));
    const before = await Promise.all(
        guarded.map(async (peer) => {
            const records = await Promise.all(
                peer.trustDomains.map((trustDomain) => store(peerRecordName(peer.stack, trustDomain), { stack: peer.stack, trustDomain, connected: false }, {})),
            );
            return { peer, wasConnected: records.filter((record) => record?.connected === true).map((record) => record!.trustDomain) };
        }),
    );
    await Promise.all(connectedNow);
    const problems = before.filter(({ wasConnected }) => wasConnected.length > 0).map(({ peer, wasConnected }) => unreadablePeerProblem(peer, wasConnected));
    if (problems.length > 0) throw new pulumi.RunError(problems.join("\n"));
    return args.unreadable
        .filter((peer) => args.allowedToGo.includes(peer.stack))
        .map((peer) => `peer stack "${peer.stack}" (peerStacks[${peer.index}]) cannot be read and peerStacksAllowedToGo names it: what pointed at ${peer.trustDomains.join(", ")} is removed`);
}
