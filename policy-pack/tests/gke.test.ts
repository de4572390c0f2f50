import { describe, expect, it } from "vitest";
import { gkeDeletionProtectionProblems } from "../policies/gkeDeletionProtection";
import { gkeSecurityProblems } from "../policies/gkeClusterSecurity";
import { gkePrivateNodesProblems } from "../policies/gkePrivateNodes";
import { mutate, REMOVE, resource } from "./fixtures";

/** Shaped like what components/gkeCluster.ts declares, plus private nodes. */
const cluster = resource("gcp:container/cluster:Cluster", "cluster-1", {
    name: "cluster-1",
    project: "multi-mesh-demo",
    location: "us-central1-a",
    removeDefaultNodePool: true,
    initialNodeCount: 1,
    releaseChannel: { channel: "REGULAR" },
    deletionProtection: true,
    networkingMode: "VPC_NATIVE",
    workloadIdentityConfig: { workloadPool: "multi-mesh-demo.svc.id.goog" },
    enableShieldedNodes: true,
    enableLegacyAbac: false,
    masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
    privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: false, masterIpv4CidrBlock: "172.16.0.0/28" },
});
const nodePool = resource("gcp:container/nodePool:NodePool", "cluster-1-nodes", {
    cluster: "cluster-1",
    nodeConfig: { machineType: "e2-standard-4", workloadMetadataConfig: { mode: "GKE_METADATA" }, shieldedInstanceConfig: { enableSecureBoot: true } },
});

describe("gke-cluster-security", () => {
    it("accepts the hardened cluster and node pool", () => {
        expect(gkeSecurityProblems(cluster)).toEqual([]);
        expect(gkeSecurityProblems(nodePool)).toEqual([]);
    });

    it("accepts settings left to GKE defaults that are already safe (shielded nodes on, no ABAC, no client certificate)", () => {
        let defaults = mutate(cluster, ["enableShieldedNodes"], REMOVE);
        defaults = mutate(defaults, ["enableLegacyAbac"], REMOVE);
        defaults = mutate(defaults, ["masterAuth"], REMOVE);
        expect(gkeSecurityProblems(defaults)).toEqual([]);
    });

    it.each([
        ["no Workload Identity", ["workloadIdentityConfig"], REMOVE, 'has no Workload Identity pool; set workloadIdentityConfig.workloadPool to "<project>.svc.id.goog"'],
        ["a pool outside svc.id.goog", ["workloadIdentityConfig", "workloadPool"], "multi-mesh-demo", "has no Workload Identity pool"],
        ["shielded nodes off", ["enableShieldedNodes"], false, "disables shielded nodes; set enableShieldedNodes: true"],
        ["no release channel", ["releaseChannel"], REMOVE, "is on no release channel; set releaseChannel.channel"],
        ["channel UNSPECIFIED", ["releaseChannel", "channel"], "UNSPECIFIED", "is on no release channel"],
        ["legacy ABAC", ["enableLegacyAbac"], true, "enables legacy ABAC, which bypasses RBAC; set enableLegacyAbac: false"],
        ["a basic-auth user", ["masterAuth", "username"], "admin", "enables basic authentication; remove masterAuth.username and masterAuth.password"],
        ["a basic-auth password", ["masterAuth", "password"], "hunter2hunter2hunter2", "enables basic authentication"],
        ["a client certificate", ["masterAuth", "clientCertificateConfig", "issueClientCertificate"], true, "issues a static client certificate; set masterAuth.clientCertificateConfig.issueClientCertificate: false"],
        ["node metadata exposed on the default pool", ["nodeConfig"], { workloadMetadataConfig: { mode: "GCE_METADATA" } }, "nodeConfig.workloadMetadataConfig.mode is GCE_METADATA"],
    ])("flags a cluster with %s", (_, path, value, message) => {
        expect(gkeSecurityProblems(mutate(cluster, path, value))).toEqual([expect.stringMatching(new RegExp(`^GKE cluster "cluster-1" `))]);
        expect(gkeSecurityProblems(mutate(cluster, path, value))[0]).toContain(message);
    });

    it("flags a node pool that lets pods use the node's service account", () => {
        expect(gkeSecurityProblems(mutate(nodePool, ["nodeConfig", "workloadMetadataConfig", "mode"], "GCE_METADATA"))).toEqual([
            'GKE node pool "cluster-1-nodes" nodeConfig.workloadMetadataConfig.mode is GCE_METADATA, which lets pods use the node\'s service account; set GKE_METADATA.',
        ]);
    });
});

describe("gke-deletion-protection (advisory)", () => {
    it("accepts protection on, or left to the provider's default (on)", () => {
        expect(gkeDeletionProtectionProblems(cluster)).toEqual([]);
        expect(gkeDeletionProtectionProblems(mutate(cluster, ["deletionProtection"], REMOVE))).toEqual([]);
    });

    it("flags protection turned off", () => {
        expect(gkeDeletionProtectionProblems(mutate(cluster, ["deletionProtection"], false))).toEqual([
            expect.stringContaining('GKE cluster "cluster-1" has deletion protection off'),
        ]);
    });
});

describe("gke-private-nodes (advisory)", () => {
    it("accepts private nodes", () => {
        expect(gkePrivateNodesProblems(cluster)).toEqual([]);
    });

    it.each([
        ["no private cluster config", ["privateClusterConfig"], REMOVE],
        ["private nodes off", ["privateClusterConfig", "enablePrivateNodes"], false],
    ])("flags %s", (_, path, value) => {
        expect(gkePrivateNodesProblems(mutate(cluster, path, value))).toEqual([
            'GKE cluster "cluster-1" gives its nodes public IP addresses; set privateClusterConfig.enablePrivateNodes: true (with Cloud NAT for egress) so nodes are reachable only through load balancers.',
        ]);
    });
});
