import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it, vi } from "vitest";
import program from "../index";
import { federationContract } from "../lib/federationContract";
import { PeerStackState, PriorStash } from "./harness/mocks";
import { DeclaredResource, ProgramRun, runProgram } from "./harness/program";
import { projectConfigOf } from "./harness/stacks";

/**
 * What a stack must refuse between two runs, because the second would break what the first
 * deployed: a renamed trust domain (SPIRE cannot start on its datastore), and a peer stack this
 * login can no longer read (its federation would be removed without anyone deciding so). Each test
 * runs the program (index.ts, as the CLI would) twice: the second run starts from the Stash
 * records the first one left in the state.
 */

const stashType = "pulumi:index:Stash";
const cftdType = "kubernetes:spire.spiffe.io/v1alpha1:ClusterFederatedTrustDomain";
type Outputs = Record<string, unknown>;

/** The program's run, or the error it stopped with and what it had declared by then. */
async function attempt(options: Parameters<typeof runProgram>[1]) {
    let failure: Error | undefined;
    const run = await runProgram(async () => {
        try {
            return await program();
        } catch (error) {
            failure = error as Error;
            return {} as Outputs;
        }
    }, options);
    return { run, failure };
}

/** Each Stash as the run left it in the state: what the next run's engine answers with. */
function stateAfter(run: ProgramRun<unknown>): Record<string, PriorStash> {
    return Object.fromEntries(
        run.ofType(stashType).map((stash) => [stash.name, { output: stash.outputs.output, input: stash.inputs.input, replacementTrigger: stash.replacementTrigger }]),
    );
}

const names = (resources: DeclaredResource[]) => resources.map((r) => `${r.type} ${r.name}`).sort();

afterEach(() => vi.restoreAllMocks());

describe("a renamed trust domain", () => {
    const base = projectConfigOf("cluster-kind");
    const renamed = {
        ...base,
        domains: (base.domains as Record<string, unknown>[]).map((d, i) => (i === 0 ? { ...d, trustDomain: "foo.example" } : d)),
    };

    it("is refused in preview, naming the key, both names and what to do, before anything but the records is declared", async () => {
        const first = await attempt({ stack: "cluster-kind" });
        expect(first.failure).toBeUndefined();
        expect(first.run.one(stashType, "cluster-1-trust-domain-record").outputs.output).toBe("foo.com");
        expect(first.run.one(stashType, "cluster-2-trust-domain-record").outputs.output).toBe("bar.com");

        const { run, failure } = await attempt({ stack: "cluster-kind", projectConfig: renamed, preview: true, priorStashes: stateAfter(first.run) });
        expect(failure).toBeInstanceOf(pulumi.RunError);
        expect(failure!.message).toBe(
            'domains[0].trustDomain of domain cluster-1 is "foo.example", but the domain was deployed as "foo.com". ' +
                'SPIRE\'s datastore holds registration entries of "foo.com", and its server refuses to start with another trust domain ' +
                '(the release upgrade would time out and leave SPIRE down). Restore "foo.com", or rename deliberately as ' +
                '"Renaming a trust domain" in the README describes: empty that SPIRE server\'s datastore, then ' +
                "pulumi up --replace the record cluster-1-trust-domain-record (pulumi:index:Stash).",
        );
        // The records are all the run declared: no release, namespace or peer object was touched.
        expect(names(run.resources.filter((r) => r.custom))).toEqual([
            `${stashType} cluster-1-trust-domain-record`,
            `${stashType} cluster-2-trust-domain-record`,
        ]);
    });

    it("goes through once the record is replaced (pulumi up --replace), and an unchanged one never stops a run", async () => {
        const first = await attempt({ stack: "cluster-kind" });
        const prior = stateAfter(first.run);
        const unchanged = await attempt({ stack: "cluster-kind", priorStashes: prior });
        expect(unchanged.failure).toBeUndefined();
        // A replaced record is a new one: the state no longer holds the old name.
        delete prior["cluster-1-trust-domain-record"];
        const replaced = await attempt({ stack: "cluster-kind", projectConfig: renamed, priorStashes: prior });
        expect(replaced.failure).toBeUndefined();
        const spire = replaced.run.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.name === "cluster-1-spire")!;
        expect(spire.inputs.values.global.spire.trustDomain).toBe("foo.example");
    });
});

describe("a peer stack connected before that this login cannot read", () => {
    const stackB = "organization/spire-istio-mesh/team-b";
    const stackC = "organization/spire-istio-mesh/team-c";
    const kindDomain = (projectConfigOf("cluster-kind").domains as Record<string, unknown>[])[0];
    /** Team A: foo.com alone, federating with B's bar.com and C's baz.com. */
    const teamA = (extra: Record<string, unknown> = {}, peers = [stackB, stackC]) => ({
        ...projectConfigOf("cluster-kind"),
        domains: [kindDomain],
        exportAdminKubeconfigs: false,
        peerStacks: peers.map((stack) => ({ stack, trustDomains: [stack === stackB ? "bar.com" : "baz.com"] })),
        ...extra,
    });
    /** A peer stack's outputs as its own run of the program publishes them (hand-written values). */
    const peerStack = (clusterName: string, trustDomain: string, network: string, host: string): PeerStackState => ({
        outputs: {
            federation: federationContract("multi-mesh", [
                {
                    clusterName,
                    trustDomain,
                    network,
                    trustBundle: JSON.stringify({ keys: [], spiffe_refresh_hint: 300 }),
                    bundleEndpointUrl: `https://${host}:30843`,
                    apiServerUrl: `https://${host}:6443`,
                    exposure: "NodePort",
                    eastWestAddress: `${host}:31443`,
                },
            ]),
            // The peer's cluster issues this stack's trust domain (foo.com) a credential of its own.
            federationCredentials: { [clusterName]: { "foo.com": `apiVersion: v1\nkind: Config\nclusters: [{name: ${clusterName}, cluster: {server: "https://${host}:6443"}}]\n` } },
        },
        secretOutputNames: ["federationCredentials"],
    });
    const peerB = peerStack("cluster-2", "bar.com", "bar-network", "192.0.2.2");
    const peerC = peerStack("cluster-3", "baz.com", "baz-network", "192.0.2.3");
    const federatedWith = (run: ProgramRun<unknown>) => run.ofType(cftdType).map((r) => r.inputs.spec.trustDomain).sort();
    const captureWarnings = () => {
        const warn = vi.spyOn(pulumi.log, "warn").mockResolvedValue();
        return () => warn.mock.calls.map(([message]) => String(message));
    };

    /** A run of A connected to both peers, as the state holds it for the next run. */
    async function connectedToBoth() {
        const first = await attempt({ stack: "cluster-kind", projectConfig: teamA(), peerStacks: { [stackB]: peerB, [stackC]: peerC } });
        expect(first.failure).toBeUndefined();
        expect(federatedWith(first.run)).toEqual(["bar.com", "baz.com"]);
        return stateAfter(first.run);
    }

    it("stops the run before anything but the records is declared, naming the peer and the ways on", async () => {
        const prior = await connectedToBoth();
        // B is still there, but this login cannot read it: the engine answers "unknown stack".
        const { run, failure } = await attempt({ stack: "cluster-kind", projectConfig: teamA(), peerStacks: { [stackC]: peerC }, priorStashes: prior, preview: true });
        expect(failure).toBeInstanceOf(pulumi.RunError);
        expect(failure!.message).toBe(
            `peer stack "${stackB}" (peerStacks[0]) was connected by an earlier run (bar.com) and cannot be read now: ` +
                'it does not exist on this backend, or this login cannot read it (the engine answers "unknown stack" for both). ' +
                "Nothing was changed, since going on would remove a working federation. Restore this login's read access to that stack " +
                "(on the local backend: the same state folder and passphrase); or, if the peer is gone for good, remove it from peerStacks " +
                "or name it in peerStacksAllowedToGo, and run again.",
        );
        expect(names(run.resources.filter((r) => r.custom))).toEqual([
            `${stashType} cluster-1-trust-domain-record`,
            `${stashType} peer-record-${stackB}-bar.com`,
            `${stashType} peer-record-${stackC}-baz.com`,
        ]);
        // Refused again on the next attempt: the refusal did not overwrite the record.
        const again = await attempt({ stack: "cluster-kind", projectConfig: teamA(), peerStacks: { [stackC]: peerC }, priorStashes: stateAfter(run) });
        expect(again.failure?.message).toMatch(/^peer stack "organization\/spire-istio-mesh\/team-b" \(peerStacks\[0\]\) was connected by an earlier run/);
    });

    it("lets it go when peerStacksAllowedToGo names it: B's federation goes, C's stays, with a warning", async () => {
        const prior = await connectedToBoth();
        const warnings = captureWarnings();
        const { run, failure } = await attempt({
            stack: "cluster-kind",
            projectConfig: teamA({ peerStacksAllowedToGo: [stackB] }),
            peerStacks: { [stackC]: peerC },
            priorStashes: prior,
        });
        expect(failure).toBeUndefined();
        expect(federatedWith(run)).toEqual(["baz.com"]);
        expect(warnings()).toContain(`peer stack "${stackB}" (peerStacks[0]) cannot be read and peerStacksAllowedToGo names it: what pointed at bar.com is removed`);
        // Its record is not declared, so the engine deletes it with this run.
        expect(run.ofType(stashType).map((s) => s.name)).not.toContain(`peer-record-${stackB}-bar.com`);
    });

    it("lets it go when the owner removed it from peerStacks", async () => {
        const prior = await connectedToBoth();
        const { run, failure } = await attempt({ stack: "cluster-kind", projectConfig: teamA({}, [stackC]), peerStacks: { [stackC]: peerC }, priorStashes: prior });
        expect(failure).toBeUndefined();
        expect(federatedWith(run)).toEqual(["baz.com"]);
    });

    it("still deploys without a peer never connected (the first of 'up A, up B, up A'), and connects it later", async () => {
        const warnings = captureWarnings();
        const alone = await attempt({ stack: "cluster-kind", projectConfig: teamA({}, [stackB]) });
        expect(alone.failure).toBeUndefined();
        expect(federatedWith(alone.run)).toEqual([]);
        expect(warnings().join("\n")).toMatch(/peer stack "organization\/spire-istio-mesh\/team-b" \(peerStacks\[0\]\) does not exist on this backend/);
        // The record made while B was unreadable says so; once B is read it says connected.
        const later = await attempt({ stack: "cluster-kind", projectConfig: teamA({}, [stackB]), peerStacks: { [stackB]: peerB }, priorStashes: stateAfter(alone.run) });
        expect(later.failure).toBeUndefined();
        expect(federatedWith(later.run)).toEqual(["bar.com"]);
        expect(later.run.one(stashType, `peer-record-${stackB}-bar.com`).outputs.output).toEqual({ stack: stackB, trustDomain: "bar.com", connected: true });
        const unreadable = await attempt({ stack: "cluster-kind", projectConfig: teamA({}, [stackB]), priorStashes: stateAfter(later.run) });
        expect(unreadable.failure?.message).toMatch(/was connected by an earlier run \(bar\.com\)/);
    });
});
