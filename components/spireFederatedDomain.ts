import * as k8s from "@pulumi/kubernetes";
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { ChartRepositoryOpts } from "../lib/chartRepositories";
import { firstInstallTimeoutSeconds, dropKeepPolicyPostRenderer } from "../lib/helm";
import { defaultRefreshHintSeconds } from "../lib/spiffeBundle";
import { inCluster, MeshCluster } from "./meshCluster";
import { bundleEndpointPort, SpireBundleEndpoint, spireClassName, spireReleaseName } from "./spireBundleEndpoint";

/** API version of the SPIRE controller manager's CRDs (spire-crds chart). */
const spireApiVersion = "spire.spiffe.io/v1alpha1";

/** Istio's identity layout: what istiod and peers expect in a workload's URI SAN. */
export const istioSpiffeIdTemplate = "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}";

/** Label Istio's injection puts on every injected pod, sidecars and gateways alike. */
export const injectedPodLabel = "service.istio.io/canonical-name";

/** SPIFFE ID the SPIRE server presents at its bundle endpoint (https_spiffe profile). */
export function spireServerSpiffeId(trustDomain: string): string {
    return `spiffe://${trustDomain}/spire/server`;
}

/**
 * Object name of the ClusterFederatedTrustDomain for a peer. Trust domains may hold `_`, which
 * Kubernetes names may not; such names get `-` and a short hash of the trust domain, so `a_b` and
 * `a-b` (two valid, distinct trust domains) never share an object.
 */
export function federatedTrustDomainObjectName(trustDomain: string): string {
    if (!trustDomain.includes("_")) return trustDomain;
    const hash = createHash("sha256").update(trustDomain).digest("hex").slice(0, 8);
    return `${trustDomain.replace(/_/g, "-")}-${hash}`;
}

/** What a domain must know of each peer it federates with. */
export interface FederationPeer {
    trustDomain: string;
    /** The peer's SPIFFE bundle (JSON): the bootstrap trust before the first refresh from its endpoint. */
    trustBundle: pulumi.Input<string>;
    /** The peer's bundle endpoint URL. */
    bundleEndpointUrl: pulumi.Input<string>;
}

/** Values of the `spire` chart for one domain. */
export function spireValues(args: {
    trustDomain: string;
    clusterName: string;
    meshId: string;
    /**
     * The domain's CA Issuer in SPIRE's namespace: SPIRE's CA is an intermediate under the domain
     * root. The plugin requests it in the release namespace (its `namespace` default), which is
     * where that Issuer lives and what the chart's Role covers.
     */
    issuerName: pulumi.Input<string>;
}): Record<string, unknown> {
    return {
        global: {
            spire: {
                trustDomain: args.trustDomain,
                clusterName: args.clusterName,
                caSubject: { organization: args.meshId, commonName: args.trustDomain },
            },
        },
        "spire-server": {
            federation: {
                enabled: true,
                // The own bundle endpoint Service targets this port; the refresh hint is the one
                // the program writes into the bootstrap bundles it hands to peers.
                bundleEndpoint: { port: bundleEndpointPort, refreshHint: `${defaultRefreshHintSeconds}s` },
                // SPIRE's own SVID on the endpoint: the https_spiffe profile peers are told to use.
                tls: { spire: { enabled: true } },
            },
            upstreamAuthority: {
                certManager: {
                    enabled: true,
                    issuerName: args.issuerName,
                    issuerKind: "Issuer",
                    issuerGroup: "cert-manager.io",
                },
            },
            controllerManager: {
                enabled: true,
                identities: {
                    // Only the mesh ClusterSPIFFEID below issues identities: the chart's catch-all
                    // default would give every pod an ID that federates with no one.
                    clusterSPIFFEIDs: {
                        default: { enabled: false },
                        "oidc-discovery-provider": { enabled: false },
                        "test-keys": { enabled: false },
                    },
                },
            },
        },
        "spire-agent": {
            // Istio's proxies read their certificate as "default" and the trust as "ROOTCA"; the
            // all-bundles name carries every federated root, so cross-domain peers verify. The
            // single-bundle name must differ from it, or SPIRE ignores one of them.
            sds: { enabled: true, defaultSVIDName: "default", defaultBundleName: "null", defaultAllBundlesName: "ROOTCA" },
        },
        // The socket reaches pods through the CSI driver that Istio's injection templates mount.
        "spiffe-csi-driver": { enabled: true },
        "spiffe-oidc-discovery-provider": { enabled: false },
    };
}

/** A ClusterFederatedTrustDomain's spec for one peer. */
export function federatedTrustDomainSpec(peer: FederationPeer, className: pulumi.Input<string>): Record<string, unknown> {
    return {
        className,
        trustDomain: peer.trustDomain,
        bundleEndpointURL: peer.bundleEndpointUrl,
        bundleEndpointProfile: { type: "https_spiffe", endpointSPIFFEID: spireServerSpiffeId(peer.trustDomain) },
        trustDomainBundle: peer.trustBundle,
    };
}

/** The mesh workloads' ClusterSPIFFEID spec: Istio's ID layout, every peer domain federated. */
export function meshWorkloadsSpec(peerTrustDomains: string[], className: pulumi.Input<string>): Record<string, unknown> {
    return {
        className,
        spiffeIDTemplate: istioSpiffeIdTemplate,
        podSelector: { matchExpressions: [{ key: injectedPodLabel, operator: "Exists" }] },
        federatesWith: [...peerTrustDomains].sort(),
    };
}

export interface SpireFederatedDomainArgs {
    /** The domain's cluster. */
    cluster: MeshCluster;
    /** SPIFFE trust domain of this cluster's workloads. */
    trustDomain: string;
    /** Cluster name SPIRE's node attestation and entry IDs use. */
    clusterName: string;
    /** Mesh ID; names the organization of SPIRE's CA subject. */
    meshId: string;
    /** Chart versions (config may override versions.ts). */
    versions: { spireChart: string; spireCrdsChart: string };
    /** Repository of the SPIFFE `spire-crds` and `spire` charts: the public one, or a mirror from config. */
    chartRepository: ChartRepositoryOpts;
    /** This domain's bundle endpoint: the SPIRE namespace and the URL peers are given. */
    endpoint: SpireBundleEndpoint;
    /** Name of the domain's CA Issuer in SPIRE's namespace (an output of it, so SPIRE starts once it is Ready). */
    issuerName: pulumi.Input<string>;
    /** This domain's SPIFFE bundle, computed from its root; published for peers and other stacks. */
    trustBundle: pulumi.Input<string>;
    /** Every other domain of the mesh. */
    peers: FederationPeer[];
}

/**
 * SPIRE for one trust domain: the hardened `spire-crds` and `spire` charts (as Helm releases: the
 * chart patches its webhook from hook Jobs), federation with every peer through one
 * ClusterFederatedTrustDomain each, and the ClusterSPIFFEID that names mesh workloads.
 *
 * Only a live cluster shows that SVIDs are issued under the domain root and that SPIRE refreshes
 * each peer's bundle from its endpoint; `npm run verify` checks both there.
 */
export class SpireFederatedDomain extends pulumi.ComponentResource {
    readonly trustDomain: string;
    /** SPIFFE bundle JSON of this domain. */
    readonly trustBundle: pulumi.Output<string>;
    /** Where peers fetch this domain's bundle. */
    readonly bundleEndpointUrl: pulumi.Output<string>;
    /** The bundle endpoint (namespace and Service) this SPIRE serves behind. */
    readonly endpoint: SpireBundleEndpoint;
    /** The class the chart's controller manager watches (and every CR here carries). */
    readonly className: pulumi.Output<string>;
    readonly release: k8s.helm.v3.Release;
    /**
     * SPIRE up and federated: the release, every ClusterFederatedTrustDomain and the ClusterSPIFFEID.
     * Istio depends on these, since its gateways only become ready once SPIRE issues their SVIDs.
     */
    readonly ready: pulumi.Resource[];

    constructor(name: string, args: SpireFederatedDomainArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("spire-istio-mesh:index:SpireFederatedDomain", name, {}, opts);
        const { cluster } = args;
        this.trustDomain = args.trustDomain;
        this.trustBundle = pulumi.output(args.trustBundle);
        this.endpoint = args.endpoint;
        this.bundleEndpointUrl = args.endpoint.url;
        const chartSource = { repositoryOpts: args.chartRepository };

        const crds = new k8s.helm.v3.Release(
            `${name}-spire-crds`,
            {
                ...chartSource,
                name: "spire-crds",
                chart: "spire-crds",
                version: args.versions.spireCrdsChart,
                namespace: args.endpoint.namespace,
                // Its CRDs are marked keep by default; the post-renderer drops that, so destroy
                // removes them. (A null in the values would too, but only with pulumi-kubernetes
                // 4.30 or later, and setting another value does not: Helm then deletes them
                // neither way.)
                postrender: dropKeepPolicyPostRenderer,
            },
            inCluster(cluster, this),
        );

        this.release = new k8s.helm.v3.Release(
            `${name}-spire`,
            {
                ...chartSource,
                name: spireReleaseName,
                chart: "spire",
                version: args.versions.spireChart,
                namespace: args.endpoint.namespace,
                values: spireValues(args),
                // Server, agent, CSI driver and controller manager images on first install.
                timeout: firstInstallTimeoutSeconds,
            },
            inCluster(cluster, this, { dependsOn: [crds] }),
        );

        // The chart derives the class from the release it was installed as; so does this.
        this.className = pulumi
            .all([this.release.status.namespace, this.release.status.name])
            .apply(([namespace, release]) => spireClassName(namespace, release));

        // The controller manager's webhook validates these CRs: they wait for the release (which
        // waits for the server pod) and are deleted before it.
        const afterSpire = { dependsOn: [this.release] };
        const federations = args.peers.map(
            (peer) =>
                new k8s.apiextensions.CustomResource(
                    `${name}-federates-${peer.trustDomain}`,
                    {
                        apiVersion: spireApiVersion,
                        kind: "ClusterFederatedTrustDomain",
                        metadata: { name: federatedTrustDomainObjectName(peer.trustDomain) },
                        spec: federatedTrustDomainSpec(peer, this.className),
                    },
                    inCluster(cluster, this, afterSpire),
                ),
        );

        // SPIRE refuses entries that federate with a domain it holds no bundle for, so the peers'
        // bundles go in first; on destroy the entry goes before them.
        const meshWorkloads = new k8s.apiextensions.CustomResource(
            `${name}-mesh-workloads`,
            {
                apiVersion: spireApiVersion,
                kind: "ClusterSPIFFEID",
                metadata: { name: "mesh-workloads" },
                spec: meshWorkloadsSpec(
                    args.peers.map((peer) => peer.trustDomain),
                    this.className,
                ),
            },
            inCluster(cluster, this, { dependsOn: [this.release, ...federations] }),
        );

        this.ready = [this.release, ...federations, meshWorkloads];
        this.registerOutputs({
            trustDomain: this.trustDomain,
            trustBundle: this.trustBundle,
            bundleEndpointUrl: this.bundleEndpointUrl,
        });
    }
}
