import * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { FederatedDomain, federationContract, federatedDomainSchema } from "../lib/federationContract";
import { LocalMesh, PeerStackOutputs, probePeerStacks } from "../lib/peerStacks";
import { ConfigError } from "../config/errors";
import { parseMeshConfig, RawConfig } from "../config/parse";
import { PeerStackState } from "./harness/mocks";
import { DeclaredResource, isSecretOutput, resolvePlain, runProgram } from "./harness/program";
import { projectConfigOf } from "./harness/stacks";

/**
 * One stack per trust domain: team A deploys foo.com, team B bar.com, each federating with the
 * other through the other's stack outputs. Under mocks, B's outputs come from a real run of the
 * program for B, read back as the engine hands a stack reference its peer's outputs.
 */

type StackOutputs = Record<string, pulumi.Output<unknown>>;
const stackA = "organization/spire-istio-mesh/team-a";
const stackB = "organization/spire-istio-mesh/team-b";
const cftdType = "kubernetes:spire.spiffe.io/v1alpha1:ClusterFederatedTrustDomain";
const spiffeIdType = "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID";
const secretType = "kubernetes:core/v1:Secret";
const releaseType = "kubernetes:helm.sh/v3:Release";

const kindDomains = projectConfigOf("cluster-kind").domains as Record<string, unknown>[];
const teamConfig = (domain: Record<string, unknown>, peer: string, peerTrustDomain: string) => ({
    ...projectConfigOf("cluster-kind"),
    domains: [domain],
    peerStacks: [{ stack: peer, trustDomains: [peerTrustDomain] }],
    exportAdminKubeconfigs: false,
});
const configA = teamConfig(kindDomains[0], stackB, "bar.com");
const configB = teamConfig(kindDomains[1], stackA, "foo.com");

/** Runs index.ts as the CLI would, for one team's stack, with the other stacks the backend holds. */
function runTeam(projectConfig: Record<string, unknown>, peerStacks: Record<string, PeerStackState> = {}) {
    return runProgram(async () => {
        vi.resetModules();
        const program = (await import("../index")) as unknown as { default: () => Promise<StackOutputs> };
        return program.default();
    }, { stack: "cluster-kind", projectConfig, peerStacks });
}

/** A stack's outputs as the engine gives them to a reference: plain values, and which outputs are secret. */
async function asPeerStack(outputs: StackOutputs): Promise<PeerStackState> {
    const secretOutputNames: string[] = [];
    const values: Record<string, unknown> = {};
    for (const [name, output] of Object.entries(outputs)) {
        if (await isSecretOutput(output)) secretOutputNames.push(name);
        values[name] = await resolvePlain(output);
    }
    return { outputs: values, secretOutputNames: secretOutputNames.sort() };
}

const inCluster = (run: { resources: DeclaredResource[] }, type: string, cluster: string) =>
    run.resources.filter((r) => r.type === type && r.provider.endsWith(`::${cluster}`));

/** The `sub` of the bearer token in a kubeconfig, decoded without trusting the program's code. */
function tokenSubjectOf(kubeconfig: string): string {
    const token = String(parse(kubeconfig).users[0].user.token);
    return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8")).sub;
}

/** The peer reader ServiceAccounts a run declares in a cluster, by name. */
const readerAccounts = (run: { resources: DeclaredResource[] }, cluster: string) =>
    inCluster(run, "kubernetes:core/v1:ServiceAccount", cluster)
        .filter((a) => a.inputs.metadata.namespace === "istio-system")
        .map((a) => a.inputs.metadata.name)
        .sort();

let peerB: PeerStackState;
const warnings: string[] = [];

beforeAll(async () => {
    // B deploys first, alone: A does not exist yet.
    const first = await runTeam(configB);
    peerB = await asPeerStack(first.result);
}, 60_000);

afterEach(() => {
    warnings.length = 0;
    vi.restoreAllMocks();
});

function captureWarnings(): void {
    // Without an engine, pulumi.log.warn writes to the console.
    vi.spyOn(console, "warn").mockImplementation((...parts: unknown[]) => void warnings.push(parts.join(" ")));
    vi.spyOn(console, "error").mockImplementation((...parts: unknown[]) => void warnings.push(parts.join(" ")));
}

describe("a stack's federation outputs", () => {
    it("publish its one domain and a reader credential only, the credential as a secret", () => {
        expect(peerB.secretOutputNames).toEqual(["federationCredentials"]);
        expect(Object.keys(peerB.outputs).sort()).toEqual(["domains", "federation", "federationCredentials"]);
        const published = (peerB.outputs.federation as { domains: Record<string, unknown> }).domains;
        expect(Object.keys(published)).toEqual(["cluster-2"]);
        expect(federatedDomainSchema.parse(published["cluster-2"]).trustDomain).toBe("bar.com");
        // Per cluster, one credential per approved peer trust domain: B approved foo.com, whose
        // stack did not exist yet, so foo.com's credential waits for A's first run.
        const credentials = peerB.outputs.federationCredentials as Record<string, Record<string, string>>;
        expect(Object.keys(credentials)).toEqual(["cluster-2"]);
        expect(Object.keys(credentials["cluster-2"])).toEqual(["foo.com"]);
        expect(tokenSubjectOf(credentials["cluster-2"]["foo.com"])).toBe("system:serviceaccount:istio-system:peer-reader-foo.com");
    });
});

describe("team A federates with team B through B's outputs", () => {
    it("declares, in its own cluster only, the trust B publishes: bundle, endpoint, mTLS trust domain, network gateway, remote secret", async () => {
        const run = await runTeam(configA, { [stackB]: peerB });
        const b = federatedDomainSchema.parse((peerB.outputs.federation as { domains: Record<string, FederatedDomain> }).domains["cluster-2"]);
        // A stack reference is a read of the peer's outputs, recorded in the state.
        expect(run.read.filter((r) => r.type === "pulumi:pulumi:StackReference").map((r) => r.id)).toEqual([stackB]);

        const federations = inCluster(run, cftdType, "cluster-1");
        expect(federations.map((f) => f.inputs.spec.trustDomain)).toEqual(["bar.com"]);
        expect(federations[0].inputs.spec.trustDomainBundle).toBe(b.trustBundle);
        expect(federations[0].inputs.spec.bundleEndpointURL).toBe(b.bundleEndpointUrl);
        expect(inCluster(run, spiffeIdType, "cluster-1")[0].inputs.spec.federatesWith).toEqual(["bar.com"]);

        const istiod = inCluster(run, releaseType, "cluster-1").find((r) => r.inputs.chart === "istiod")!;
        expect(istiod.inputs.values.meshConfig.trustDomainAliases).toEqual([]);
        expect(istiod.inputs.values.meshConfig.caCertificates).toEqual([{ trustDomains: ["bar.com"] }]);
        const [host, port] = b.eastWestAddress.split(":");
        expect(istiod.inputs.values.global.meshNetworks[b.network]).toEqual({
            endpoints: [{ fromRegistry: "cluster-2" }],
            gateways: [{ address: host, port: Number(port) }],
        });

        const remote = inCluster(run, secretType, "cluster-1").filter((s) => s.inputs.metadata?.labels?.["istio/multiCluster"] === "true");
        expect(remote.map((s) => s.inputs.metadata.name)).toEqual(["istio-remote-secret-cluster-2"]);
        expect(remote[0].secretInputPaths).toContain("stringData");
        // The credential B issued to foo.com alone, not one another peer of B holds.
        const credentials = peerB.outputs.federationCredentials as Record<string, Record<string, string>>;
        expect(remote[0].inputs.stringData["cluster-2"]).toBe(credentials["cluster-2"]["foo.com"]);
        expect(parse(credentials["cluster-2"]["foo.com"]).clusters[0].cluster.server).toBe(b.apiServerUrl);
        // And A issues B a credential of its own.
        expect(readerAccounts(run, "cluster-1")).toEqual(["peer-reader-bar.com"]);

        // Nothing reaches B's cluster: A has no provider for it.
        expect(run.ofType("pulumi:providers:kubernetes").map((p) => p.name)).toEqual(["cluster-1"]);
    });

    it("names the missing peer and deploys everything else when B does not exist yet", async () => {
        captureWarnings();
        const alone = await runTeam(configA);
        expect(warnings.join("\n")).toMatch(/peer stack "organization\/spire-istio-mesh\/team-b" \(peerStacks\[0\]\) does not exist on this backend/);
        expect(alone.read.filter((r) => r.type === "pulumi:pulumi:StackReference")).toEqual([]);
        expect(inCluster(alone, cftdType, "cluster-1")).toEqual([]);
        expect(inCluster(alone, spiffeIdType, "cluster-1")[0].inputs.spec.federatesWith ?? []).toEqual([]);
        expect(inCluster(alone, secretType, "cluster-1").filter((s) => s.inputs.metadata?.labels?.["istio/multiCluster"] === "true")).toEqual([]);
        // B's credential is issued in advance, so B finds it on its first run (up A, up B, up A).
        expect(readerAccounts(alone, "cluster-1")).toEqual(["peer-reader-bar.com"]);
        const credentials = (await resolvePlain(alone.result.federationCredentials)) as Record<string, Record<string, string>>;
        expect(Object.keys(credentials["cluster-1"])).toEqual(["bar.com"]);
    });

    it("revokes B's credential, and only it, when B is dropped from peerStacks", async () => {
        // A second peer (team C, not deployed yet) keeps A's config valid once B is dropped.
        const stackC = { stack: "organization/spire-istio-mesh/team-c", trustDomains: ["baz.com"] };
        const linked = await runTeam({ ...configA, peerStacks: [...configA.peerStacks, stackC] }, { [stackB]: peerB });
        expect(readerAccounts(linked, "cluster-1")).toEqual(["peer-reader-bar.com", "peer-reader-baz.com"]);
        const dropped = await runTeam({ ...configA, peerStacks: [stackC] }, { [stackB]: peerB });
        expect(readerAccounts(dropped, "cluster-1")).toEqual(["peer-reader-baz.com"]);
        const urns = new Set(dropped.resources.map((r) => r.urn));
        const gone = linked.resources.filter((r) => !urns.has(r.urn) && r.name.includes("peer-reader"));
        expect(gone.map((r) => r.type).sort()).toEqual(
            [
                "kubernetes:core/v1:Secret",
                "kubernetes:core/v1:ServiceAccount",
                "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
                "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
            ].sort(),
        );
    });

    it("removes exactly what pointed at B when B goes away", async () => {
        const linked = await runTeam(configA, { [stackB]: peerB });
        captureWarnings();
        const unlinked = await runTeam(configA, { [stackB]: { outputs: {}, secretOutputNames: [] } });
        expect(warnings.join("\n")).toMatch(/exports no "federation" output/);
        const urns = (run: { resources: DeclaredResource[] }) => new Set(run.resources.map((r) => r.urn));
        const gone = linked.resources.filter((r) => !urns(unlinked).has(r.urn));
        // A destroyed B loses its credential too: whatever copy of the token survives it (B's state,
        // a backup) no longer authenticates.
        expect(gone.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
            [
                `kubernetes:core/v1:Secret cluster-1-istio-remote-secret-cluster-2`,
                `${cftdType} ${linked.resources.find((r) => r.type === cftdType)!.name}`,
                "kubernetes:core/v1:Secret cluster-1-peer-reader-bar.com-token",
                "kubernetes:core/v1:ServiceAccount cluster-1-peer-reader-bar.com",
                "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding cluster-1-peer-reader-bar.com",
                "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding cluster-1-peer-reader-bar.com-mesh-config",
            ].sort(),
        );
        expect(unlinked.resources.filter((r) => !urns(linked).has(r.urn))).toEqual([]);
        expect(unlinked.read.filter((r) => r.type === "pulumi:pulumi:StackReference")).toEqual([]);
    });
});

describe("the peer probe", () => {
    const local: LocalMesh = { stack: stackA, meshId: "multi-mesh", domains: [{ clusterName: "cluster-1", trustDomain: "foo.com", network: "foo-network" }] };
    const domainB: FederatedDomain = {
        clusterName: "cluster-2",
        trustDomain: "bar.com",
        network: "bar-network",
        trustBundle: '{"keys":[]}',
        bundleEndpointUrl: "https://192.0.2.2:30843",
        apiServerUrl: "https://192.0.2.2:6443",
        exposure: "NodePort",
        eastWestAddress: "192.0.2.2:31443",
    };
    const outputsOf = (domain: Partial<FederatedDomain>, credentials: unknown = { [String(domain.clusterName)]: { "foo.com": "apiVersion: v1" } }) => ({
        outputs: {
            federation: { ...federationContract("multi-mesh", []), domains: { [String(domain.clusterName)]: domain } },
            federationCredentials: credentials,
        },
    });
    const probe = (outputs: PeerStackOutputs | Error, trustDomains = ["bar.com"]) =>
        probePeerStacks([{ stack: stackB, trustDomains }], local, async () => {
            if (outputs instanceof Error) throw outputs;
            return outputs;
        });

    it("connects a peer that publishes every field", async () => {
        expect(await probe(outputsOf(domainB))).toEqual({
            connected: [{ stack: stackB, clusterName: "cluster-2", trustDomain: "bar.com", network: "bar-network", exposure: "NodePort" }],
            awaited: [],
            warnings: [],
        });
    });

    it("awaits an approved peer whose stack does not exist yet, and neither connects nor awaits one that publishes nothing", async () => {
        const missing = await probe(new Error('invocation of pulumi:pulumi:readStackOutputs returned an error: unknown stack "team-b"'));
        expect(missing).toMatchObject({ connected: [], awaited: ["bar.com"] });
        const destroyed = await probe({ outputs: {} });
        expect(destroyed).toMatchObject({ connected: [], awaited: [] });
        expect(destroyed.warnings).toEqual([expect.stringContaining('exports no "federation" output')]);
    });

    it("leaves out a peer that issued this stack's trust domain no credential, or only the shared one of an older version", async () => {
        const notIssued = await probe(outputsOf(domainB, { "cluster-2": { "baz.com": "apiVersion: v1" } }));
        expect(notIssued.connected).toEqual([]);
        expect(notIssued.warnings).toEqual([
            `peer stack "${stackB}" (peerStacks[0]) issues no reader credential of bar.com to foo.com (it must list them in its own peerStacks): this stack deploys without bar.com`,
        ]);
        const shared = await probe(outputsOf(domainB, { "cluster-2": "apiVersion: v1" }));
        expect(shared.connected).toEqual([]);
        expect(shared.warnings).toEqual([expect.stringContaining("publishes one reader credential of bar.com shared by all its peers")]);
    });

    it("leaves out, with a message naming what is missing, a trust domain not published or published without fields", async () => {
        const notPublished = await probe(outputsOf(domainB), ["baz.com"]);
        expect(notPublished.connected).toEqual([]);
        expect(notPublished.warnings).toEqual([
            `peer stack "${stackB}" (peerStacks[0]) does not publish trust domain baz.com (it publishes: bar.com): this stack deploys without it`,
        ]);
        const withoutGateway: Partial<FederatedDomain> = { ...domainB };
        delete withoutGateway.eastWestAddress;
        expect((await probe(outputsOf(withoutGateway))).warnings).toEqual([
            `peer stack "${stackB}" (peerStacks[0]) publishes trust domain bar.com without eastWestAddress: this stack deploys without it`,
        ]);
    });

    it("fails, changing nothing, on a read error other than a missing stack", async () => {
        await expect(probe(new Error("403 Forbidden"))).rejects.toThrow(/could not be read \(403 Forbidden\); nothing was changed/);
    });

    it("fails on a credential it cannot decrypt, another mesh, an unknown contract version, a colliding network, or itself", async () => {
        await expect(probe(outputsOf(domainB, {}))).rejects.toThrow(/reader credentials of bar.com could not be read/);
        await expect(
            probe({ outputs: { federation: { ...federationContract("other-mesh", []), domains: {} } } }),
        ).rejects.toThrow(/belongs to mesh "other-mesh"/);
        await expect(probe({ outputs: { federation: { schema: "spire-istio-mesh/federation", version: 2, meshId: "multi-mesh", domains: {} } } })).rejects.toThrow(
            /cannot read \(schema "spire-istio-mesh\/federation", version 2; supported: spire-istio-mesh\/federation version 1\)/,
        );
        await expect(probe(outputsOf({ ...domainB, network: "foo-network" }))).rejects.toThrow(/already uses; cluster names and networks must be unique/);
        await expect(
            probePeerStacks([{ stack: stackA, trustDomains: ["bar.com"] }], local, async () => outputsOf(domainB)),
        ).rejects.toThrow(/is this stack itself/);
    });
});

describe("peerStacks config", () => {
    const base = projectConfigOf("cluster-kind") as RawConfig;
    const problems = (raw: RawConfig) => {
        try {
            parseMeshConfig(raw);
        } catch (error) {
            return (error as ConfigError).problems.map((p) => `${p.key} = ${JSON.stringify(p.value)}: ${p.allowed}`);
        }
        throw new Error("expected a rejection");
    };

    it("lets a stack with peer stacks deploy one domain", () => {
        const mesh = parseMeshConfig({ ...base, domains: [kindDomains[0]], peerStacks: JSON.stringify([{ stack: stackB, trustDomains: ["bar.com"] }]) });
        expect(mesh.domains.map((d) => d.trustDomain)).toEqual(["foo.com"]);
        expect(mesh.peerStacks).toEqual([{ stack: stackB, trustDomains: ["bar.com"] }]);
    });

    it("refuses a malformed stack name, an empty or local trust domain list, and a trust domain under two peers", () => {
        expect(
            problems({
                ...base,
                domains: [kindDomains[0]],
                peerStacks: [
                    { stack: "team-b", trustDomains: ["bar.com"] },
                    { stack: stackB, trustDomains: [] },
                    { stack: "organization/spire-istio-mesh/team-c", trustDomains: ["foo.com", "Baz.com"] },
                ],
            }),
        ).toEqual([
            'peerStacks[0].stack = "team-b": must name the peer\'s stack as org/project/stack (on the local backend the org is "organization")',
            "peerStacks[1].trustDomains = []: must list at least one of the peer's trust domains",
            expect.stringMatching(/^peerStacks\[2\]\.trustDomains\[1\] = "Baz.com": has uppercase letters/),
        ]);
        expect(
            problems({
                ...base,
                domains: [kindDomains[0]],
                peerStacks: [
                    { stack: stackB, trustDomains: ["bar.com", "foo.com"] },
                    { stack: "organization/spire-istio-mesh/team-c", trustDomains: ["bar.com"] },
                ],
            }),
        ).toEqual([
            'peerStacks[0].trustDomains[1] = "foo.com": must be another stack\'s trust domain; domains[0] deploys it here',
            'peerStacks[1].trustDomains[0] = "bar.com": must belong to one peer; peerStacks[0].trustDomains[0] already lists it',
        ]);
    });
});
