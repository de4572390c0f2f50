import * as pulumi from "@pulumi/pulumi";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { parse, stringify } from "yaml";
import { FederatedDomain, federationContract } from "../lib/federationContract";
import { LocalMesh, PeerStackOutputs, probePeerStacks } from "../lib/peerStacks";
import { parseSpiffeBundle } from "../lib/spiffeBundle";
import { ConfigError } from "../config/errors";
import { parseMeshConfig, RawConfig } from "../config/parse";
import { createTestRootCa } from "./harness/certificates";
import { PeerStackState } from "./harness/mocks";
import { DeclaredResource, isSecretOutput, ProgramRun, resolvePlain, runProgram } from "./harness/program";
import { projectConfigOf } from "./harness/stacks";

/**
 * One stack per team, two trust domains each, federating across stacks: team A deploys foo.com and
 * bar.com, team B baz.com and qux.com, on clusters of their own (platform existing) with their own
 * node ports, names, networks and supplied roots. Under mocks, each stack's peer outputs come from
 * a real run of the program for the other team, read back as the engine hands a stack reference
 * its peer's outputs. Every value checked on either side is written out below by hand, from the
 * config alone: a value wrong on both sides (published wrong and consumed as published) fails.
 * Each cluster issues every trust domain that may read it (the other domain of its stack and each
 * approved peer trust domain) a reader credential of its own: ServiceAccount
 * `peer-reader-<reader>` in istio-system, with token Secret `<cluster>-peer-reader-<reader>-token`.
 */

type StackOutputs = Record<string, pulumi.Output<unknown>>;
const stackA = "organization/spire-istio-mesh/team-a";
const stackB = "organization/spire-istio-mesh/team-b";
const cftdType = "kubernetes:spire.spiffe.io/v1alpha1:ClusterFederatedTrustDomain";
const spiffeIdType = "kubernetes:spire.spiffe.io/v1alpha1:ClusterSPIFFEID";
const destinationRuleType = "kubernetes:networking.istio.io/v1:DestinationRule";
const secretType = "kubernetes:core/v1:Secret";
const releaseType = "kubernetes:helm.sh/v3:Release";
const stashType = "pulumi:index:Stash";
const serviceAccountType = "kubernetes:core/v1:ServiceAccount";
const clusterRoleType = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole";
const clusterRoleBindingType = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding";
const roleBindingType = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";

/** Everything about one domain that its peers see, as its team's config fixes it. */
interface ClusterPlan {
    team: "A" | "B";
    clusterName: string;
    trustDomain: string;
    network: string;
    context: string;
    apiServerUrl: string;
    nodeAddress: string;
    rootKeyConfigKey: string;
}
const clusters: ClusterPlan[] = [
    { team: "A", clusterName: "cluster-1", trustDomain: "foo.com", network: "foo-network", context: "ctx-1", apiServerUrl: "https://10.1.0.1:6443", nodeAddress: "192.0.2.1", rootKeyConfigKey: "cluster1RootKey" },
    { team: "A", clusterName: "cluster-2", trustDomain: "bar.com", network: "bar-network", context: "ctx-2", apiServerUrl: "https://10.2.0.1:6443", nodeAddress: "192.0.2.2", rootKeyConfigKey: "cluster2RootKey" },
    { team: "B", clusterName: "cluster-3", trustDomain: "baz.com", network: "baz-network", context: "ctx-3", apiServerUrl: "https://10.3.0.1:6443", nodeAddress: "198.51.100.3", rootKeyConfigKey: "cluster3RootKey" },
    { team: "B", clusterName: "cluster-4", trustDomain: "qux.com", network: "qux-network", context: "ctx-4", apiServerUrl: "https://10.4.0.1:6443", nodeAddress: "198.51.100.4", rootKeyConfigKey: "cluster4RootKey" },
];
const byName = (name: string) => clusters.find((c) => c.clusterName === name)!;
/** The node ports each team configures: B's differ from A's (A keeps the defaults). */
const nodePortsOf = { A: { bundleEndpoint: 30843, eastWest: 31443, ingressHttp: 30080 }, B: { bundleEndpoint: 31843, eastWest: 32443, ingressHttp: 31080 } };

/** What a peer must see of a domain, written out from the table above (never read from a run). */
const expectedPublished = (name: string) => {
    const c = byName(name);
    return {
        clusterName: c.clusterName,
        trustDomain: c.trustDomain,
        network: c.network,
        bundleEndpointUrl: `https://${c.nodeAddress}:${nodePortsOf[c.team].bundleEndpoint}`,
        apiServerUrl: c.apiServerUrl,
        exposure: "NodePort",
        eastWestAddress: `${c.nodeAddress}:${nodePortsOf[c.team].eastWest}`,
    };
};

const folder = mkdtempSync(join(tmpdir(), "cross-stack-"));
const kubeconfigPath = join(folder, "kubeconfig");
writeFileSync(
    kubeconfigPath,
    stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: clusters.map((c) => ({ name: c.clusterName, cluster: { server: c.apiServerUrl, "certificate-authority-data": "Q0E=" } })),
        users: clusters.map((c) => ({ name: `${c.clusterName}-admin`, user: { token: `${c.clusterName}-admin-token` } })),
        contexts: clusters.map((c) => ({ name: c.context, context: { cluster: c.clusterName, user: `${c.clusterName}-admin` } })),
    }),
);
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** Each domain's supplied root: what its bundle, and every peer's copy of it, must carry. */
const roots = new Map<string, { certificatePem: string; privateKeyPem: string }>();

function teamConfig(team: "A" | "B", peers: { stack: string; trustDomains: string[] }[]) {
    const ports = nodePortsOf[team];
    return {
        platform: "existing",
        exposure: "NodePort",
        meshId: "multi-mesh",
        exportAdminKubeconfigs: false,
        bundleEndpointNodePort: ports.bundleEndpoint,
        eastWestNodePort: ports.eastWest,
        ingressHttpNodePort: ports.ingressHttp,
        domains: clusters
            .filter((c) => c.team === team)
            .map((c) => ({
                name: c.clusterName,
                trustDomain: c.trustDomain,
                network: c.network,
                existing: { context: c.context, kubeconfig: kubeconfigPath, nodeAddress: c.nodeAddress },
                rootCa: { certificatePem: roots.get(c.clusterName)!.certificatePem, privateKeyConfigKey: c.rootKeyConfigKey },
            })),
        peerStacks: peers,
    };
}
const configA = () => teamConfig("A", [{ stack: stackB, trustDomains: ["baz.com", "qux.com"] }]);
const configB = () => teamConfig("B", [{ stack: stackA, trustDomains: ["foo.com", "bar.com"] }]);

/** Runs index.ts as the CLI would, for one team's stack, with the other stacks the backend holds. */
function runTeam(team: "A" | "B", projectConfig: Record<string, unknown>, peerStacks: Record<string, PeerStackState> = {}) {
    const secretConfig = Object.fromEntries(clusters.filter((c) => c.team === team).map((c) => [c.rootKeyConfigKey, roots.get(c.clusterName)!.privateKeyPem]));
    return runProgram(async () => {
        vi.resetModules();
        const program = (await import("../index")) as unknown as { default: () => Promise<StackOutputs> };
        return program.default();
    }, { stack: "cluster-kind", projectConfig, peerStacks, secretConfig });
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
const remoteSecretsIn = (run: { resources: DeclaredResource[] }, cluster: string) =>
    inCluster(run, secretType, cluster).filter((s) => s.inputs.metadata?.labels?.["istio/multiCluster"] === "true");

/** The root certificates (DER, base64) a SPIFFE bundle carries. */
const rootsOfBundle = (bundle: string) => parseSpiffeBundle(bundle).x509Authorities.map((certificate) => certificate.raw.toString("base64"));
const derOf = (pem: string) => new X509Certificate(pem).raw.toString("base64");

/** The claims of the reader token inside a remote secret's kubeconfig (the mock names the token's Secret). */
function tokenClaimsOf(kubeconfig: string): { sub: string; "mock/resource": string } {
    const token = (parse(kubeconfig) as { users: { user: { token: string } }[] }).users[0].user.token;
    return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
}
const serverOf = (kubeconfig: string) => (parse(kubeconfig) as { clusters: { cluster: { server: string } }[] }).clusters[0].cluster.server;

/**
 * What the token `issuer` issued to `reader` must say: the subject of the reader's own
 * ServiceAccount, and (mock only) the token Secret resource of that cluster and reader.
 */
const expectedReaderClaims = (issuer: string, reader: string) => ({
    iss: "kubernetes/serviceaccount",
    sub: `system:serviceaccount:istio-system:peer-reader-${reader}`,
    "mock/resource": `${issuer}-peer-reader-${reader}-token`,
});

/** Per cluster, per reader trust domain, the kubeconfig a stack publishes in `federationCredentials`. */
type Credentials = Record<string, Record<string, string>>;
const credentialsOf = (stack: PeerStackState) => stack.outputs.federationCredentials as Credentials;

/** The reader ServiceAccounts a run declares in a cluster, by name. */
const readerAccounts = (run: { resources: DeclaredResource[] }, cluster: string) =>
    inCluster(run, serviceAccountType, cluster)
        .filter((a) => a.inputs.metadata.namespace === "istio-system")
        .map((a) => a.inputs.metadata.name as string)
        .sort();

/**
 * A cluster's reader credentials, one per trust domain in `readers`: a ServiceAccount each, its
 * long-lived token Secret, and bindings of that account alone to the program's read-only roles.
 */
function expectReadersIssued(run: { resources: DeclaredResource[] }, own: string, readers: string[]) {
    expect(readerAccounts(run, own), own).toEqual(readers.map((reader) => `peer-reader-${reader}`).sort());
    const tokens = inCluster(run, secretType, own).filter((s) => s.inputs.type === "kubernetes.io/service-account-token");
    expect(tokens.map((t) => [t.inputs.metadata.name, t.inputs.metadata.annotations["kubernetes.io/service-account.name"]]).sort(), own).toEqual(
        readers.map((reader) => [`peer-reader-${reader}-token`, `peer-reader-${reader}`]).sort(),
    );
    const bindings = [...inCluster(run, clusterRoleBindingType, own), ...inCluster(run, roleBindingType, own)];
    expect(bindings.map((b) => `${b.inputs.roleRef.kind} ${b.inputs.roleRef.name} <- ${b.inputs.subjects.map((s: { name: string }) => s.name).join(",")}`).sort(), own).toEqual(
        readers.flatMap((reader) => [`ClusterRole spire-istio-mesh-peer-reader <- peer-reader-${reader}`, `Role spire-istio-mesh-peer-reader <- peer-reader-${reader}`]).sort(),
    );
    // What those roles grant is read-only and never a Secret.
    const [role] = inCluster(run, clusterRoleType, own);
    expect(role.inputs.metadata.name).toBe("spire-istio-mesh-peer-reader");
    for (const rule of role.inputs.rules as { resources: string[]; verbs: string[] }[]) {
        expect(rule.resources, own).not.toContain("secrets");
        expect(rule.resources, own).not.toContain("*");
        expect([...rule.verbs].sort(), own).toEqual(["get", "list", "watch"]);
    }
}

/**
 * Everything one cluster must hold for its peers, from the table alone: a ClusterFederatedTrustDomain
 * per peer (bundle endpoint, SPIFFE ID, the peer's own root), istiod trusting each peer through a
 * `caCertificates` entry of its own (no aliases) and networks with each peer's gateway, a remote
 * secret per peer reaching that peer's API server with the token that peer issued to this cluster's
 * trust domain alone (exactly the kubeconfig the peer's stack publishes for it), a reader
 * credential issued to every peer, federation on the mesh workloads, and the sample's accepted
 * identities. `publishedBy` gives the `federationCredentials` of the stack each peer belongs to.
 */
function expectClusterWiredToPeers(run: ProgramRun<unknown>, own: string, publishedBy: (peer: ClusterPlan) => Credentials) {
    const self = byName(own);
    const peers = clusters.filter((c) => c.clusterName !== own);
    const federations = inCluster(run, cftdType, own);
    expect(federations.map((f) => f.inputs.spec.trustDomain).sort(), own).toEqual(peers.map((p) => p.trustDomain).sort());
    for (const peer of peers) {
        const spec = federations.find((f) => f.inputs.spec.trustDomain === peer.trustDomain)!.inputs.spec;
        expect(spec.bundleEndpointURL, `${own} -> ${peer.trustDomain}`).toBe(`https://${peer.nodeAddress}:${nodePortsOf[peer.team].bundleEndpoint}`);
        expect(spec.bundleEndpointProfile, `${own} -> ${peer.trustDomain}`).toEqual({ type: "https_spiffe", endpointSPIFFEID: `spiffe://${peer.trustDomain}/spire/server` });
        expect(rootsOfBundle(spec.trustDomainBundle), `${own} -> ${peer.trustDomain}`).toEqual([derOf(roots.get(peer.clusterName)!.certificatePem)]);
    }
    expect(inCluster(run, spiffeIdType, own)[0].inputs.spec.federatesWith).toEqual(peers.map((p) => p.trustDomain).sort());

    const istiod = inCluster(run, releaseType, own).find((r) => r.inputs.chart === "istiod")!;
    expect(istiod.inputs.values.meshConfig.trustDomain).toBe(self.trustDomain);
    expect(istiod.inputs.values.meshConfig.trustDomainAliases, own).toEqual([]);
    const caCertificates = istiod.inputs.values.meshConfig.caCertificates as { trustDomains: string[] }[];
    expect([...caCertificates].sort((x, y) => x.trustDomains[0].localeCompare(y.trustDomains[0])), own).toEqual(
        peers.map((p) => ({ trustDomains: [p.trustDomain] })).sort((x, y) => x.trustDomains[0].localeCompare(y.trustDomains[0])),
    );
    expect(istiod.inputs.values.global.network).toBe(self.network);
    expect(istiod.inputs.values.global.meshNetworks).toEqual({
        [self.network]: { endpoints: [{ fromRegistry: own }] },
        ...Object.fromEntries(
            peers.map((p) => [p.network, { endpoints: [{ fromRegistry: p.clusterName }], gateways: [{ address: p.nodeAddress, port: nodePortsOf[p.team].eastWest }] }]),
        ),
    });

    const remote = remoteSecretsIn(run, own);
    expect(remote.map((s) => s.inputs.metadata.name).sort()).toEqual(peers.map((p) => `istio-remote-secret-${p.clusterName}`).sort());
    for (const peer of peers) {
        const secret = remote.find((s) => s.inputs.metadata.name === `istio-remote-secret-${peer.clusterName}`)!;
        expect(secret.secretInputPaths).toContain("stringData");
        expect(Object.keys(secret.inputs.stringData)).toEqual([peer.clusterName]);
        const kubeconfig = secret.inputs.stringData[peer.clusterName] as string;
        expect(serverOf(kubeconfig), `${own} -> ${peer.clusterName}`).toBe(peer.apiServerUrl);
        expect(tokenClaimsOf(kubeconfig), `${own} -> ${peer.clusterName}`).toEqual(expectedReaderClaims(peer.clusterName, self.trustDomain));
        // The very credential the peer's stack issued to this trust domain, not another reader's; a
        // credential between two domains of one stack stays inside that stack, never exported.
        const exported = publishedBy(peer)[peer.clusterName]?.[self.trustDomain];
        if (peer.team === self.team) expect(exported, `${own} -> ${peer.clusterName}`).toBeUndefined();
        else expect(kubeconfig, `${own} -> ${peer.clusterName}`).toBe(exported);
    }
    expectReadersIssued(run, own, peers.map((p) => p.trustDomain));

    const helloworld = inCluster(run, destinationRuleType, own).find((r) => r.inputs.metadata.name === "helloworld")!;
    expect([...helloworld.inputs.spec.trafficPolicy.tls.subjectAltNames].sort()).toEqual(
        clusters.map((c) => `spiffe://${c.trustDomain}/ns/helloworld/sa/helloworld`).sort(),
    );
}

/** Nothing a run declares goes to a cluster of another team: only its own clusters have a provider. */
function expectDeclaredOnlyIn(run: ProgramRun<unknown>, own: string[]) {
    expect(run.ofType("pulumi:providers:kubernetes").map((p) => p.name).sort()).toEqual(own);
    const kubernetes = run.resources.filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:providers:"));
    expect(kubernetes.length).toBeGreaterThan(0);
    expect([...new Set(kubernetes.map((r) => r.provider.split("::").pop()))].sort()).toEqual(own);
}

let firstB: PeerStackState;
let peerA: PeerStackState;
let peerB: PeerStackState;
let runA: ProgramRun<StackOutputs>;
let runB: ProgramRun<StackOutputs>;
const warnings: string[] = [];

beforeAll(async () => {
    for (const c of clusters) roots.set(c.clusterName, await createTestRootCa(`${c.trustDomain} team root`));
    // B deploys first, alone: A does not exist yet. Then A, reading B; then B again, reading A.
    firstB = await asPeerStack((await runTeam("B", configB())).result);
    runA = await runTeam("A", configA(), { [stackB]: firstB });
    peerA = await asPeerStack(runA.result);
    runB = await runTeam("B", configB(), { [stackA]: peerA });
    peerB = await asPeerStack(runB.result);
}, 0);

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
    it("publish each of its domains as its config fixes them, and per domain a reader credential per trust domain that may read it, as a secret", () => {
        for (const [published, own] of [
            [firstB, ["cluster-3", "cluster-4"]],
            [peerA, ["cluster-1", "cluster-2"]],
            [peerB, ["cluster-3", "cluster-4"]],
        ] as const) {
            expect(published.secretOutputNames).toEqual(["federationCredentials"]);
            expect(Object.keys(published.outputs).sort()).toEqual(["domains", "federation", "federationCredentials"]);
            const federation = published.outputs.federation as { schema: string; version: number; meshId: string; domains: Record<string, Record<string, unknown>> };
            expect([federation.schema, federation.version, federation.meshId]).toEqual(["spire-istio-mesh/federation", 1, "multi-mesh"]);
            expect(Object.keys(federation.domains).sort()).toEqual([...own]);
            for (const name of own) {
                const { trustBundle, ...rest } = federation.domains[name];
                expect(rest, name).toEqual(expectedPublished(name));
                expect(rootsOfBundle(String(trustBundle)), name).toEqual([derOf(roots.get(name)!.certificatePem)]);
                // Exported: what each approved peer trust domain of the other team was issued, whether
                // its stack exists yet (firstB: A did not); never the stack's own domains' credentials.
                const readers = clusters.filter((c) => c.team !== byName(name).team).map((c) => c.trustDomain);
                const issued = credentialsOf(published)[name];
                expect(Object.keys(issued).sort(), name).toEqual(readers.sort());
                for (const reader of readers) {
                    expect(tokenClaimsOf(issued[reader]), `${name} -> ${reader}`).toEqual(expectedReaderClaims(name, reader));
                    expect(serverOf(issued[reader]), `${name} -> ${reader}`).toBe(byName(name).apiServerUrl);
                }
            }
            expect(Object.keys(credentialsOf(published)).sort()).toEqual([...own]);
        }
    });

    it("export no reader credential from a stack without peerStacks", async () => {
        const solo = await runTeam("A", teamConfig("A", []));
        expect(Object.keys(solo.result).sort()).toEqual(["domains", "federation"]);
        // Its two domains still read each other, each with the credential the other issued to it alone.
        expectReadersIssued(solo, "cluster-1", ["bar.com"]);
        expectReadersIssued(solo, "cluster-2", ["foo.com"]);
    });
});

describe("two teams of two domains each federate through each other's outputs", () => {
    it("team A wires each of its clusters to every peer, B's included, with B's ports, networks, roots and credentials", () => {
        // B's credentials are those B's first run issued in advance to A's trust domains.
        for (const own of ["cluster-1", "cluster-2"]) expectClusterWiredToPeers(runA, own, (peer) => credentialsOf(peer.team === "A" ? peerA : firstB));
        // A stack reference is a read of the peer's outputs, recorded in the state; nothing reaches B's clusters.
        expect(runA.read.filter((r) => r.type === "pulumi:pulumi:StackReference").map((r) => r.id)).toEqual([stackB]);
        expectDeclaredOnlyIn(runA, ["cluster-1", "cluster-2"]);
    });

    it("team B, on its second run, wires each of its clusters to every peer, A's included, with A's ports, networks, roots and credentials", () => {
        for (const own of ["cluster-3", "cluster-4"]) expectClusterWiredToPeers(runB, own, (peer) => credentialsOf(peer.team === "A" ? peerA : peerB));
        expect(runB.read.filter((r) => r.type === "pulumi:pulumi:StackReference").map((r) => r.id)).toEqual([stackA]);
        expectDeclaredOnlyIn(runB, ["cluster-3", "cluster-4"]);
    });

    it("names the missing peer and deploys everything else when B does not exist yet", async () => {
        captureWarnings();
        const alone = await runTeam("A", configA());
        expect(warnings.join("\n")).toMatch(/peer stack "organization\/spire-istio-mesh\/team-b" \(peerStacks\[0\]\) does not exist on this backend/);
        expect(alone.read.filter((r) => r.type === "pulumi:pulumi:StackReference")).toEqual([]);
        for (const own of ["cluster-1", "cluster-2"]) {
            const other = own === "cluster-1" ? byName("cluster-2") : byName("cluster-1");
            expect(inCluster(alone, cftdType, own).map((f) => f.inputs.spec.trustDomain)).toEqual([other.trustDomain]);
            expect(inCluster(alone, spiffeIdType, own)[0].inputs.spec.federatesWith).toEqual([other.trustDomain]);
            expect(remoteSecretsIn(alone, own).map((s) => s.inputs.metadata.name)).toEqual([`istio-remote-secret-${other.clusterName}`]);
            const istiod = inCluster(alone, releaseType, own).find((r) => r.inputs.chart === "istiod")!;
            expect(istiod.inputs.values.meshConfig.caCertificates).toEqual([{ trustDomains: [other.trustDomain] }]);
            // B's trust domains are approved: their credentials are issued in advance, so B finds
            // them on its first run (up A, up B, up A).
            expectReadersIssued(alone, own, [other.trustDomain, "baz.com", "qux.com"]);
        }
        const credentials = (await resolvePlain(alone.result.federationCredentials)) as Credentials;
        expect(Object.keys(credentials).sort()).toEqual(["cluster-1", "cluster-2"]);
        expect(Object.keys(credentials["cluster-1"]).sort()).toEqual(["baz.com", "qux.com"]);
        expect(Object.keys(credentials["cluster-2"]).sort()).toEqual(["baz.com", "qux.com"]);
        expect(tokenClaimsOf(credentials["cluster-2"]["qux.com"])).toEqual(expectedReaderClaims("cluster-2", "qux.com"));
    });

    it("removes exactly what pointed at B, B's reader credentials included, when B goes away", async () => {
        captureWarnings();
        const unlinked = await runTeam("A", configA(), { [stackB]: { outputs: {}, secretOutputNames: [] } });
        expect(warnings.join("\n")).toMatch(/exports no "federation" output/);
        const urns = (run: { resources: DeclaredResource[] }) => new Set(run.resources.map((r) => r.urn));
        const gone = runA.resources.filter((r) => !urns(unlinked).has(r.urn));
        expect(gone.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
            [
                `${secretType} cluster-1-istio-remote-secret-cluster-3`,
                `${secretType} cluster-1-istio-remote-secret-cluster-4`,
                `${secretType} cluster-2-istio-remote-secret-cluster-3`,
                `${secretType} cluster-2-istio-remote-secret-cluster-4`,
                `${cftdType} cluster-1-federates-baz.com`,
                `${cftdType} cluster-1-federates-qux.com`,
                `${cftdType} cluster-2-federates-baz.com`,
                `${cftdType} cluster-2-federates-qux.com`,
                `${stashType} peer-record-${stackB}-baz.com`,
                `${stashType} peer-record-${stackB}-qux.com`,
                // A destroyed B loses its credentials too: whatever copy of a token survives it (B's
                // state, a backup) no longer authenticates.
                ...["cluster-1", "cluster-2"].flatMap((own) =>
                    ["baz.com", "qux.com"].flatMap((reader) => [
                        `${serviceAccountType} ${own}-peer-reader-${reader}`,
                        `${secretType} ${own}-peer-reader-${reader}-token`,
                        `${clusterRoleBindingType} ${own}-peer-reader-${reader}`,
                        `${roleBindingType} ${own}-peer-reader-${reader}-mesh-config`,
                    ]),
                ),
            ].sort(),
        );
        expectReadersIssued(unlinked, "cluster-1", ["bar.com"]);
        expectReadersIssued(unlinked, "cluster-2", ["foo.com"]);
        expect(unlinked.resources.filter((r) => !urns(runA).has(r.urn))).toEqual([]);
        expect(unlinked.read.filter((r) => r.type === "pulumi:pulumi:StackReference")).toEqual([]);
    });

    it("revokes exactly the dropped trust domain's credentials when it leaves peerStacks, and nothing of the others", async () => {
        // A third team's stack (not deployed yet) is approved alongside B: its credential must stay.
        const stackC = { stack: "organization/spire-istio-mesh/team-c", trustDomains: ["quux.com"] };
        const linked = await runTeam("A", { ...configA(), peerStacks: [...configA().peerStacks, stackC] }, { [stackB]: firstB });
        for (const own of ["cluster-1", "cluster-2"]) {
            const other = own === "cluster-1" ? "bar.com" : "foo.com";
            expectReadersIssued(linked, own, [other, "baz.com", "qux.com", "quux.com"]);
        }
        const dropped = await runTeam("A", { ...configA(), peerStacks: [{ stack: stackB, trustDomains: ["baz.com"] }, stackC] }, { [stackB]: firstB });
        for (const own of ["cluster-1", "cluster-2"]) {
            const other = own === "cluster-1" ? "bar.com" : "foo.com";
            expectReadersIssued(dropped, own, [other, "baz.com", "quux.com"]);
        }
        const urns = (run: { resources: DeclaredResource[] }) => new Set(run.resources.map((r) => r.urn));
        expect(
            linked.resources
                .filter((r) => !urns(dropped).has(r.urn))
                .map((r) => `${r.type} ${r.name}`)
                .sort(),
        ).toEqual(
            [
                ...["cluster-1", "cluster-2"].flatMap((own) => [
                    `${serviceAccountType} ${own}-peer-reader-qux.com`,
                    `${secretType} ${own}-peer-reader-qux.com-token`,
                    `${clusterRoleBindingType} ${own}-peer-reader-qux.com`,
                    `${roleBindingType} ${own}-peer-reader-qux.com-mesh-config`,
                    `${secretType} ${own}-istio-remote-secret-cluster-4`,
                    `${cftdType} ${own}-federates-qux.com`,
                ]),
                `${stashType} peer-record-${stackB}-qux.com`,
            ].sort(),
        );
        expect(dropped.resources.filter((r) => !urns(linked).has(r.urn))).toEqual([]);
        const published = (await resolvePlain(dropped.result.federationCredentials)) as Credentials;
        expect(Object.keys(published["cluster-1"]).sort()).toEqual(["baz.com", "quux.com"]);
        expect(Object.keys(published["cluster-2"]).sort()).toEqual(["baz.com", "quux.com"]);
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
    /** A peer's outputs: by default, a credential of the domain issued to foo.com, the local trust domain. */
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
            unreadable: [],
            warnings: [],
        });
    });

    it("reports a peer the engine does not find as unreadable and awaited, with the trust domains config lists for it", async () => {
        const unknown = await probe(new Error(`invocation of pulumi:pulumi:readStackOutputs returned an error: unknown stack "${stackB}"`), ["bar.com", "baz.com"]);
        expect(unknown.connected).toEqual([]);
        expect(unknown.unreadable).toEqual([{ stack: stackB, index: 0, trustDomains: ["bar.com", "baz.com"] }]);
        // Approved but not there yet: its credentials are issued in advance.
        expect(unknown.awaited).toEqual(["bar.com", "baz.com"]);
        expect(unknown.warnings).toEqual([
            `peer stack "${stackB}" (peerStacks[0]) does not exist on this backend, or this login cannot read it: this stack deploys without bar.com, baz.com; run \`pulumi up\` here again once it is fixed`,
        ]);
    });

    it("neither connects nor awaits a peer stack that exists but publishes nothing (destroyed), which revokes its credentials", async () => {
        const destroyed = await probe({ outputs: {} }, ["bar.com", "baz.com"]);
        expect(destroyed).toEqual({
            connected: [],
            awaited: [],
            unreadable: [],
            warnings: [
                `peer stack "${stackB}" (peerStacks[0]) exports no "federation" output (not deployed yet, destroyed, or deployed by an older program): this stack deploys without bar.com, baz.com; run \`pulumi up\` here again once it is fixed`,
            ],
        });
    });

    it("leaves out a peer domain that issued a local trust domain no credential, or only the shared one of an older version", async () => {
        // Two local domains: the peer must have issued each of them a credential of its own.
        const twoLocal: LocalMesh = { ...local, domains: [...local.domains, { clusterName: "cluster-9", trustDomain: "quux.com", network: "quux-network" }] };
        const probeTwo = (credentials: unknown) =>
            probePeerStacks([{ stack: stackB, trustDomains: ["bar.com"] }], twoLocal, async () => outputsOf(domainB, credentials));
        const partly = await probeTwo({ "cluster-2": { "foo.com": "apiVersion: v1", "baz.com": "apiVersion: v1" } });
        expect(partly).toEqual({
            connected: [],
            awaited: [],
            unreadable: [],
            warnings: [
                `peer stack "${stackB}" (peerStacks[0]) issues no reader credential of bar.com to quux.com (it must list them in its own peerStacks): this stack deploys without bar.com`,
            ],
        });
        const empty = await probeTwo({ "cluster-2": { "foo.com": "apiVersion: v1", "quux.com": "" } });
        expect(empty.connected).toEqual([]);
        expect(empty.warnings).toEqual([expect.stringContaining("issues no reader credential of bar.com to quux.com (")]);
        expect((await probeTwo({ "cluster-2": { "foo.com": "apiVersion: v1", "quux.com": "apiVersion: v1" } })).connected.map((d) => d.trustDomain)).toEqual(["bar.com"]);
        // Issued to another cluster's name only: nothing for cluster-2.
        const elsewhere = await probe(outputsOf(domainB, { "cluster-7": { "foo.com": "apiVersion: v1" } }));
        expect(elsewhere.connected).toEqual([]);
        expect(elsewhere.warnings).toEqual([
            `peer stack "${stackB}" (peerStacks[0]) issues no reader credential of bar.com to foo.com (it must list them in its own peerStacks): this stack deploys without bar.com`,
        ]);
        const shared = await probe(outputsOf(domainB, { "cluster-2": "apiVersion: v1" }));
        expect(shared).toEqual({
            connected: [],
            awaited: [],
            unreadable: [],
            warnings: [
                `peer stack "${stackB}" (peerStacks[0]) publishes one reader credential of bar.com shared by all its peers (an older version of this program, whose credential reads every Secret): this stack deploys without bar.com until that stack is updated`,
            ],
        });
    });

    it("refuses two peer stacks that publish the same cluster name or network", async () => {
        const stackC = "organization/spire-istio-mesh/team-c";
        const domainC: FederatedDomain = { ...domainB, clusterName: "cluster-3", trustDomain: "baz.com", network: "bar-network", eastWestAddress: "192.0.2.3:32443" };
        const outputs: Record<string, PeerStackOutputs> = { [stackB]: outputsOf(domainB), [stackC]: outputsOf(domainC) };
        const peers = [
            { stack: stackB, trustDomains: ["bar.com"] },
            { stack: stackC, trustDomains: ["baz.com"] },
        ];
        await expect(probePeerStacks(peers, local, async (stack) => outputs[stack])).rejects.toThrow(
            `peer stack "${stackC}" (peerStacks[1]): trust domain baz.com runs as cluster "cluster-3" on network "bar-network", which bar.com already uses; cluster names and networks must be unique across the mesh`,
        );
        outputs[stackC] = outputsOf({ ...domainC, clusterName: "cluster-2", network: "baz-network" });
        await expect(probePeerStacks(peers, local, async (stack) => outputs[stack])).rejects.toThrow(/runs as cluster "cluster-2" on network "baz-network", which bar.com already uses/);
        outputs[stackC] = outputsOf({ ...domainC, network: "baz-network" });
        expect((await probePeerStacks(peers, local, async (stack) => outputs[stack])).connected.map((d) => [d.clusterName, d.network])).toEqual([
            ["cluster-2", "bar-network"],
            ["cluster-3", "baz-network"],
        ]);
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
        await expect(probe(outputsOf(domainB, {}))).rejects.toThrow(
            `peer stack "${stackB}" (peerStacks[0]): the reader credentials of bar.com could not be read; both stacks must use a secrets provider this login can decrypt (on the local backend, the same passphrase)`,
        );
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
    const kindDomains = projectConfigOf("cluster-kind").domains as Record<string, unknown>[];
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
