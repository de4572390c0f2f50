import { createHash } from "node:crypto";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GkeDomainSettings } from "../config/model";
import { gkeKubeconfig } from "../lib/kubeconfig";
import { MeshCluster } from "./meshCluster";

export interface GkeClusterArgs {
    /** Cluster name; the domain's name, so that GKE, Istio and the outputs agree. */
    clusterName: string;
    /** Project, location, machine shape, node count and boot disk of this domain. */
    settings: GkeDomainSettings;
    /** GKE release channel; a channel keeps control plane and nodes on supported, patched versions. */
    releaseChannel: pulumi.Input<string>;
    /**
     * Refuse `pulumi destroy` of the cluster until set false: a mesh's root CAs live inside it.
     * Also Pulumi's `protect`, so destroy stops before its first step instead of dropping the
     * objects inside and then failing on the cluster itself.
     */
    deletionProtection: boolean;
    /**
     * CIDRs allowed to reach the API server's public endpoint: the operator's (where `pulumi` and
     * `npm run verify` run) and every peer cluster's egress addresses, since peers' istiod watch
     * this API server with the reader credential. Empty leaves the endpoint open to every address,
     * which is what works without knowing the peers' egress.
     */
    masterAuthorizedNetworks?: string[];
}

/** The cluster's `masterAuthorizedNetworksConfig`, or undefined (no restriction) for an empty list. */
export function masterAuthorizedNetworksConfig(cidrs: string[]): gcp.types.input.container.ClusterMasterAuthorizedNetworksConfig | undefined {
    if (cidrs.length === 0) return undefined;
    return { cidrBlocks: cidrs.map((cidrBlock) => ({ cidrBlock, displayName: `authorized ${cidrBlock}` })) };
}

/**
 * Least-privilege roles for the node service account: what nodes need to ship logs and metrics
 * and to pull images, instead of the Compute Engine default account's Editor role.
 */
export const nodeServiceAccountRoles = [
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/artifactregistry.reader",
] as const;

/**
 * The node service account's ID: `<cluster>-nodes` where that fits GCP's limit (6 to 30 characters,
 * a letter first, no `-` last); otherwise the cluster name cut short, without trailing `-`, plus a
 * hash of the whole name, so that two long names that share their start get two accounts.
 */
export function nodeServiceAccountId(clusterName: string): string {
    const readable = `${clusterName}-nodes`;
    if (readable.length <= 30) return readable;
    const hash = createHash("sha256").update(clusterName).digest("hex").slice(0, 8);
    const prefix = clusterName.slice(0, 30 - hash.length - 1).replace(/-+$/, "");
    return `${prefix}-${hash}`;
}

/**
 * A GKE Standard cluster for one trust domain. Standard, not Autopilot: the SPIRE agent and the
 * SPIFFE CSI driver need privileged pods and hostPath volumes.
 */
export class GkeCluster extends pulumi.ComponentResource implements MeshCluster {
    readonly clusterName: string;
    readonly cluster: gcp.container.Cluster;
    readonly nodePool: gcp.container.NodePool;
    readonly nodeServiceAccount: gcp.serviceaccount.Account;
    readonly provider: k8s.Provider;
    readonly kubeconfig: pulumi.Output<string>;
    readonly apiServerUrl: pulumi.Output<string>;
    readonly nodeAddress: undefined = undefined;
    readonly lifecycleOwner: pulumi.Resource;
    readonly objectsOwnCloudResources = true;

    constructor(name: string, args: GkeClusterArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("spire-istio-mesh:index:GkeCluster", name, {}, opts);
        const { project, location, machineType, nodeCount, diskSizeGb, diskType } = args.settings;
        this.clusterName = args.clusterName;

        this.nodeServiceAccount = new gcp.serviceaccount.Account(
            `${name}-nodes`,
            {
                project,
                accountId: nodeServiceAccountId(args.clusterName),
                displayName: `GKE nodes of ${args.clusterName}`,
            },
            { parent: this },
        );
        const roleBindings = nodeServiceAccountRoles.map(
            (role) =>
                new gcp.projects.IAMMember(
                    `${name}-nodes-${role.split("/")[1].replace(/\./g, "-")}`,
                    { project, role, member: this.nodeServiceAccount.member },
                    { parent: this },
                ),
        );

        // Every node, including the default pool's one that lives only while the cluster is
        // created: the dedicated account instead of the Compute Engine default (which a project
        // may have disabled or deleted), and a boot disk sized on purpose.
        const nodeConfig = {
            machineType,
            diskSizeGb,
            diskType,
            serviceAccount: this.nodeServiceAccount.email,
            oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
            shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
            workloadMetadataConfig: { mode: "GKE_METADATA" },
        };

        this.cluster = new gcp.container.Cluster(
            name,
            {
                name: args.clusterName,
                project,
                location,
                // The default pool cannot be changed without replacing the cluster, so it is
                // created as small as allowed and removed; nodes come from `nodePool` below.
                removeDefaultNodePool: true,
                initialNodeCount: 1,
                nodeConfig,
                releaseChannel: { channel: args.releaseChannel },
                deletionProtection: args.deletionProtection,
                networkingMode: "VPC_NATIVE",
                ipAllocationPolicy: {},
                workloadIdentityConfig: { workloadPool: `${project}.svc.id.goog` },
                enableShieldedNodes: true,
                enableLegacyAbac: false,
                masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
                ...(args.masterAuthorizedNetworks && args.masterAuthorizedNetworks.length > 0
                    ? { masterAuthorizedNetworksConfig: masterAuthorizedNetworksConfig(args.masterAuthorizedNetworks) }
                    : {}),
                resourceLabels: { "managed-by": "pulumi", "spiffe-trust-domain-cluster": args.clusterName },
            },
            {
                parent: this,
                protect: args.deletionProtection,
                // nodeConfig describes only the default pool, gone once the cluster exists, and
                // the provider replaces the whole cluster on any change of it: ignored after create.
                ignoreChanges: ["nodeConfig"],
            },
        );

        this.nodePool = new gcp.container.NodePool(
            `${name}-nodes`,
            {
                project,
                location,
                cluster: this.cluster.name,
                nodeCount,
                management: { autoRepair: true, autoUpgrade: true },
                nodeConfig: { ...nodeConfig, labels: { cluster: args.clusterName } },
            },
            { parent: this, dependsOn: roleBindings, protect: args.deletionProtection },
        );

        this.apiServerUrl = pulumi.interpolate`https://${this.cluster.endpoint}`;
        // The node pool's name is folded in so that the provider (and so every object in the
        // cluster) waits for nodes to exist, not just for the control plane.
        this.kubeconfig = pulumi.secret(
            pulumi
                .all([this.cluster.endpoint, this.cluster.masterAuth.clusterCaCertificate, this.nodePool.name])
                .apply(([endpoint, clusterCaCertificate]) =>
                    gkeKubeconfig({ name: args.clusterName, endpoint, clusterCaCertificate: clusterCaCertificate ?? "" }),
                ),
        );
        this.provider = new k8s.Provider(
            name,
            {
                kubeconfig: this.kubeconfig,
                // Identity of the cluster for Pulumi: the endpoint or CA rotating changes the
                // kubeconfig text, which must not replace every object in the cluster.
                clusterIdentifier: this.cluster.id,
                // No deleteUnreachable: an expired login or a missing auth plugin would make a
                // refresh drop every object of a live cluster from state (README, "Unreachable clusters").
            },
            { parent: this },
        );
        this.lifecycleOwner = this.cluster;

        this.registerOutputs({
            apiServerUrl: this.apiServerUrl,
            kubeconfig: this.kubeconfig,
        });
    }
}
