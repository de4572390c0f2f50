import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Exposure, NodePorts } from "../config/model";
import { ChartRepositoryOpts } from "../lib/chartRepositories";
import { firstInstallTimeoutSeconds, dropKeepPolicyPostRenderer } from "../lib/helm";
import {
    crossNetworkGatewaySpec,
    crossNetworkPort,
    eastWestGatewayName,
    eastWestGatewayValues,
    hostPort,
    ingressGatewayName,
    ingressGatewayValues,
    ingressHttpPort,
    istioBaseValues,
    istiodValues,
    IstioValuesInput,
    strictPeerAuthenticationSpec,
} from "./istio/values";
import { inCluster, inClusterOwningCloudResources, MeshCluster } from "./meshCluster";
import { PeerReaders } from "./peerReaders";

/** A peer cluster of the mesh, as this cluster's istiod must know it. */
export interface IstioMultiPrimaryPeer {
    /** Peer's Istio cluster ID: the key of its remote secret and of its `fromRegistry` network. */
    clusterName: string;
    /** Peer's Istio network, reached through the peer's east-west gateway. */
    network: string;
    /** Peer's SPIFFE trust domain, listed in `caCertificates[].trustDomains` so its SVIDs are accepted. */
    trustDomain: string;
    /**
     * Address of the peer's nodes as this cluster's pods reach them; required in NodePort
     * exposure, where istiod is told the peer gateway's address because it cannot discover it.
     */
    nodeAddress?: pulumi.Input<string>;
    /** How a peer of another stack exposes its gateways; unset for peers of this stack (the same exposure). */
    exposure?: Exposure;
    /** The east-west address (`host:port`) a peer of another stack publishes. */
    eastWestAddress?: pulumi.Input<string>;
}

export interface IstioMultiPrimaryArgs {
    /** The cluster this Istio control plane runs in; every object goes through its provider. */
    cluster: MeshCluster;
    /**
     * Name of `istio-system`, as an output of the Namespace labelled with the network: istiod
     * reads that label, so nothing of Istio may exist before it.
     */
    namespace: pulumi.Input<string>;
    /** Mesh ID shared by every cluster: proxies of one mesh trust and route to each other. */
    meshId: string;
    /** This cluster's Istio network (one per cluster: the clusters share no pod network). */
    network: string;
    /** This cluster's SPIFFE trust domain; istiod's `trustDomain` must equal SPIRE's. */
    trustDomain: string;
    /** Every other cluster of the mesh. */
    peers: IstioMultiPrimaryPeer[];
    /**
     * The trust domains whose istiod may read this cluster, each with a credential of its own:
     * every peer of this stack, and every peer-stack domain approved in `peerStacks` that is
     * connected or whose stack does not exist yet (so that it finds its credential on its first run).
     */
    readerTrustDomains: string[];
    /** How peers reach this cluster's gateways: cloud load balancers or fixed node ports. */
    exposure: Exposure;
    /** Fixed node ports of the gateways in NodePort exposure (peers are told them up front). */
    nodePorts: Pick<NodePorts, "eastWest" | "ingressHttp">;
    /** Who may reach the ingress gateway's LoadBalancer (clients); empty leaves it open to everyone. */
    loadBalancerSourceRanges: string[];
    /**
     * Who may reach the east-west gateway's LoadBalancer: every peer's egress addresses, since
     * peers' proxies connect from their own clusters; empty leaves it open to everyone.
     */
    peerSourceRanges: string[];
    /** Version of the `base`, `istiod` and `gateway` charts (one Istio release for all three). */
    istioVersion: string;
    /** Repository of the Istio charts: the public one, or a mirror from config. */
    chartRepository: ChartRepositoryOpts;
    /**
     * What istiod and the gateways must wait for without consuming a value of it: istiod decides
     * at startup between the plugged `cacerts` CA and a self-signed one, so the cacerts
     * Certificate must be Ready first; gateways only become ready once SPIRE, federated with
     * every peer, issues them SVIDs (SPIRE refuses entries naming a domain it has no bundle for).
     */
    trustReady: pulumi.Input<pulumi.Resource>[];
}

/**
 * One primary of a multi-primary, multi-network Istio mesh whose proxies take their identity from
 * SPIRE: the `base`, `istiod` and two `gateway` charts, the cross-network Gateway, mesh-wide
 * STRICT mTLS, and one reader credential per peer (`PeerReaders`), which peers' remote secrets carry. The remote secrets
 * themselves cross clusters and are declared by `IstioRemoteSecrets` once every primary exists.
 */
export class IstioMultiPrimary extends pulumi.ComponentResource {
    readonly network: string;
    /** This cluster's trust domain: the key under which peers' credentials for this cluster's istiod are issued. */
    readonly trustDomain: string;
    readonly cluster: MeshCluster;
    /** Name of `istio-system` (an output of the labelled Namespace). */
    readonly namespace: pulumi.Output<string>;
    readonly base: k8s.helm.v3.Release;
    readonly istiod: k8s.helm.v3.Release;
    readonly eastWestGateway: k8s.helm.v3.Release;
    readonly ingressGateway: k8s.helm.v3.Release;
    /**
     * Where peers reach the east-west gateway's cross-network port, as `host:port`: the load
     * balancer address read from the chart's Service and 15443, or the node address and the
     * fixed node port.
     */
    readonly eastWestAddress: pulumi.Output<string>;
    /** Where clients reach the ingress gateway's HTTP port, as `host:port` (same sources). */
    readonly ingressAddress: pulumi.Output<string>;
    /** The per-peer credentials that read this cluster (each a Pulumi secret), by peer trust domain. */
    readonly readers: PeerReaders;

    constructor(name: string, args: IstioMultiPrimaryArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("spire-istio-mesh:index:IstioMultiPrimary", name, {}, opts);
        const cluster = args.cluster;
        const prefix = cluster.clusterName;
        this.network = args.network;
        this.trustDomain = args.trustDomain;
        this.cluster = cluster;
        this.namespace = pulumi.output(args.namespace);

        const localInput: IstioValuesInput = {
            meshId: args.meshId,
            clusterName: cluster.clusterName,
            network: args.network,
            trustDomain: args.trustDomain,
            peers: args.peers.map(({ clusterName, network, trustDomain, exposure }) => ({
                clusterName,
                network,
                trustDomain,
                ...(exposure ? { exposure } : {}),
            })),
            exposure: args.exposure,
            nodePorts: args.nodePorts,
            loadBalancerSourceRanges: args.loadBalancerSourceRanges,
            peerSourceRanges: args.peerSourceRanges,
        };
        // Peers' node addresses are only known once their clusters exist; istiod's values wait for them.
        const istiodInput = pulumi
            .all(args.peers.map((peer) => pulumi.all([pulumi.output(peer.nodeAddress), pulumi.output(peer.eastWestAddress)])))
            .apply((addresses): IstioValuesInput => ({
                ...localInput,
                peers: localInput.peers.map((peer, index) => {
                    const [nodeAddress, eastWestAddress] = addresses[index];
                    return { ...peer, nodeAddress, ...(eastWestAddress ? { eastWestAddress } : {}) };
                }),
            }));

        const chart = (chartName: string) => ({
            chart: chartName,
            version: args.istioVersion,
            namespace: this.namespace,
            repositoryOpts: args.chartRepository,
            // istiod and the gateways pull their images on first install; base waits for little.
            timeout: firstInstallTimeoutSeconds,
        });

        this.base = new k8s.helm.v3.Release(
            `${prefix}-istio-base`,
            // The chart marks every CRD keep; the post-renderer drops that, so destroy removes them.
            { name: "istio-base", ...chart("base"), values: istioBaseValues(), postrender: dropKeepPolicyPostRenderer },
            inCluster(cluster, this),
        );

        // Plugged CA: the chart mounts Secret `cacerts` at /etc/cacerts. Finding `tls.crt` there,
        // istiod uses the kubernetes.io/tls layout cert-manager writes (tls.crt + tls.key sign,
        // ca.crt is the root). It watches the directory and loads a renewed intermediate by itself
        // (there is no switch for this since Istio 1.19), so cert-manager's rotation needs no
        // restart; a changed *root* would be refused. Plugged-or-self-signed is decided once at
        // startup, hence the wait on trustReady.
        this.istiod = new k8s.helm.v3.Release(
            `${prefix}-istiod`,
            { name: "istiod", ...chart("istiod"), values: istiodInput.apply(istiodValues) },
            // base: istiod watches the CRDs it installs.
            inCluster(cluster, this, { dependsOn: [this.base, ...args.trustReady] }),
        );

        // Gateway pods are injected by istiod's webhook and turn ready only with an SVID from SPIRE.
        // Their Services are cloud load balancers on GKE: deleted before the cluster, not with it.
        const gatewayOptions = () => inClusterOwningCloudResources(cluster, this, { dependsOn: [this.istiod, ...args.trustReady] });
        this.eastWestGateway = new k8s.helm.v3.Release(
            `${prefix}-${eastWestGatewayName}`,
            { name: eastWestGatewayName, ...chart("gateway"), values: eastWestGatewayValues(localInput) },
            gatewayOptions(),
        );
        this.ingressGateway = new k8s.helm.v3.Release(
            `${prefix}-${ingressGatewayName}`,
            { name: ingressGatewayName, ...chart("gateway"), values: ingressGatewayValues(localInput) },
            gatewayOptions(),
        );

        // CRDs come from base; istiod's validating webhook must answer before Istio objects are admitted.
        const afterCharts = () => inCluster(cluster, this, { dependsOn: [this.base, this.istiod] });
        new k8s.apiextensions.CustomResource(
            `${prefix}-cross-network-gateway`,
            {
                apiVersion: "networking.istio.io/v1",
                kind: "Gateway",
                metadata: { name: "cross-network-gateway", namespace: this.namespace },
                spec: crossNetworkGatewaySpec(),
            },
            afterCharts(),
        );
        new k8s.apiextensions.CustomResource(
            `${prefix}-mesh-mtls`,
            {
                apiVersion: "security.istio.io/v1",
                kind: "PeerAuthentication",
                // `default` in the root namespace is the mesh-wide policy.
                metadata: { name: "default", namespace: this.namespace },
                spec: strictPeerAuthenticationSpec(),
            },
            afterCharts(),
        );

        this.readers = new PeerReaders(`${prefix}-peer-readers`, { cluster, namespace: this.namespace, peerTrustDomains: args.readerTrustDomains }, { parent: this });

        if (args.exposure === "NodePort") {
            const nodeAddress = cluster.nodeAddress;
            if (!nodeAddress) {
                throw new pulumi.ResourceError(`cluster ${prefix} has no node address for NodePort exposure`, this);
            }
            // Node ports are fixed by config and the node address is the cluster's own; no read is needed.
            this.eastWestAddress = nodeAddress.apply((host) => hostPort(host, args.nodePorts.eastWest));
            this.ingressAddress = nodeAddress.apply((host) => hostPort(host, args.nodePorts.ingressHttp));
        } else {
            this.eastWestAddress = this.loadBalancerHost(this.eastWestGateway, eastWestGatewayName).apply((host) => hostPort(host, crossNetworkPort));
            this.ingressAddress = this.loadBalancerHost(this.ingressGateway, ingressGatewayName).apply((host) => hostPort(host, ingressHttpPort));
        }

        this.registerOutputs({
            network: this.network,
            eastWestAddress: this.eastWestAddress,
            ingressAddress: this.ingressAddress,
        });
    }

    /**
     * The load balancer address of a gateway chart's Service. The chart, not this program, owns
     * the Service, so it is read back; its ID comes from the Release's status, so the read
     * happens after Helm's wait, which holds the Release until the address is assigned.
     */
    private loadBalancerHost(release: k8s.helm.v3.Release, gatewayName: string): pulumi.Output<string> {
        const service = k8s.core.v1.Service.get(
            `${this.cluster.clusterName}-${gatewayName}-service`,
            pulumi.interpolate`${release.status.namespace}/${release.status.name}`,
            inCluster(this.cluster, this),
        );
        return service.status.apply((status) => {
            const ingress = status?.loadBalancer?.ingress?.[0];
            const host = ingress?.ip || ingress?.hostname;
            if (!host) {
                throw new pulumi.ResourceError(`gateway Service ${gatewayName} in ${this.cluster.clusterName} has no load balancer address`, this);
            }
            return host;
        });
    }
}
