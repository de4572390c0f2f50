import { Exposure, NodePorts } from "../../config/model";
import { istioNamespaceName } from "../istioNamespace";
import { gatewayTemplates, nativeSidecarsEnvValue, sidecarTemplates, spireInjectionTemplates } from "./injectionTemplates";

/**
 * Pure builders of the Istio chart values and objects that `IstioMultiPrimary` declares. They
 * take plain values only, so tests check them directly and the component resolves its Outputs
 * once before calling them.
 */

/** Helm release (and so workload and Service) name of the east-west gateway. */
export const eastWestGatewayName = "istio-eastwestgateway";
/** Helm release (and so workload and Service) name of the ingress gateway. */
export const ingressGatewayName = "istio-ingressgateway";
/**
 * The gateway chart labels its pods `istio: <release name without "istio-">`; the
 * cross-network Gateway selects the east-west pods by that label.
 */
export const eastWestGatewaySelector = { istio: "eastwestgateway" } as const;

/** Port of the east-west gateway that carries cross-network mTLS (SNI auto-passthrough). */
export const crossNetworkPort = 15443;
/** Port the ingress gateway serves plain HTTP on. */
export const ingressHttpPort = 80;
/** istiod only watches Secrets with this label for remote clusters. */
export const multiClusterSecretLabel = { "istio/multiCluster": "true" } as const;

/** Label istiod and the gateway chart use to place a Service, pod or namespace in a network. */
const networkLabel = "topology.istio.io/network";

/** A peer cluster as istiod in this cluster must know it. */
export interface IstioPeer {
    /** The peer's Istio cluster ID (its `global.multiCluster.clusterName`). */
    clusterName: string;
    /** The peer's Istio network. */
    network: string;
    /** The peer's SPIFFE trust domain: its SVIDs are accepted on mTLS, never as this domain's. */
    trustDomain: string;
    /** NodePort exposure only: the address this cluster's pods reach the peer's node ports on. */
    nodeAddress?: string;
    /**
     * How the peer exposes its gateways, when it differs from this cluster's: a peer in another
     * stack chooses its own. Unset for peers of the same stack.
     */
    exposure?: Exposure;
    /**
     * The peer's east-west gateway as `host:port`, when the peer publishes it (another stack,
     * whose node ports this stack's config does not set). Used in NodePort exposure.
     */
    eastWestAddress?: string;
}

/** `host:port` (IPv6 hosts in brackets) as the gateway entry of `meshNetworks` wants it. */
export function splitHostPort(address: string): { address: string; port: number } {
    const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
    if (!match) throw new Error(`not a host:port address: ${JSON.stringify(address)}`);
    return { address: match[1], port: Number(match[2]) };
}

/** Everything the values of one cluster's Istio depend on. */
export interface IstioValuesInput {
    meshId: string;
    clusterName: string;
    network: string;
    /** This cluster's SPIFFE trust domain: SPIRE issues every proxy an SVID in it. */
    trustDomain: string;
    peers: IstioPeer[];
    exposure: Exposure;
    nodePorts: Pick<NodePorts, "eastWest" | "ingressHttp">;
    /** Source ranges of the ingress gateway's LoadBalancer (clients); empty leaves it open. */
    loadBalancerSourceRanges: string[];
    /** Source ranges of the east-west gateway's LoadBalancer: peers' egress addresses; empty leaves it open. */
    peerSourceRanges: string[];
}

/** One network of `global.meshNetworks` (the MeshNetworks `Network` message). */
export interface MeshNetwork {
    endpoints: { fromRegistry: string }[];
    gateways?: ({ address: string; port: number } | { registryServiceName: string; port: number })[];
}

export interface IstioBaseValues {
    global: { enableReaderRBAC: false };
}

export interface IstiodValues {
    global: {
        enableReaderRBAC: false;
        meshID: string;
        multiCluster: { clusterName: string };
        network: string;
        meshNetworks: Record<string, MeshNetwork>;
    };
    meshConfig: {
        trustDomain: string;
        trustDomainAliases: string[];
        caCertificates: { trustDomains: string[] }[];
        defaultConfig: { proxyMetadata: Record<string, string> };
    };
    env: Record<string, string>;
    sidecarInjectorWebhook: { templates: Record<string, string>; defaultTemplates: string[] };
}

export interface GatewayServicePort {
    name: string;
    port: number;
    targetPort: number;
    protocol: "TCP";
    nodePort?: number;
}

export interface GatewayValues {
    labels?: Record<string, string>;
    env?: Record<string, string>;
    podAnnotations: Record<string, string>;
    service: { type: "LoadBalancer" | "NodePort"; ports?: GatewayServicePort[]; loadBalancerSourceRanges?: string[] };
}

/**
 * The `base` chart: CRDs only. Its reader ServiceAccount (templates/reader-serviceaccount.yaml) is
 * turned off, with the istiod chart's reader ClusterRole: peers get `PeerReaders` instead.
 */
export function istioBaseValues(): IstioBaseValues {
    return { global: { enableReaderRBAC: false } };
}

/**
 * `global.meshNetworks`: for every network, which registry (cluster) its endpoints come from and
 * how other networks reach it.
 *
 * NodePort: istiod can discover a NodePort gateway only through node ExternalIPs, which kind
 * nodes lack, so each peer network gets its gateway's address and fixed node port explicitly.
 * Its own network needs no gateway: local endpoints are reached directly.
 *
 * LoadBalancer: no address is written anywhere. Each network names the east-west Service of its
 * own registry, and istiod reads the address from that Service's load balancer status (the
 * network label on that Service leads istiod to the same Service, so both agree).
 */
export function meshNetworks(input: IstioValuesInput): Record<string, MeshNetwork> {
    const networks: Record<string, MeshNetwork> = {};
    const registryGateway = { registryServiceName: `${eastWestGatewayName}.${istioNamespaceName}.svc.cluster.local`, port: crossNetworkPort };
    if (input.exposure === "LoadBalancer") {
        networks[input.network] = { endpoints: [{ fromRegistry: input.clusterName }], gateways: [registryGateway] };
        for (const peer of input.peers) {
            networks[peer.network] = { endpoints: [{ fromRegistry: peer.clusterName }], gateways: [peerGateway(input, peer, registryGateway)] };
        }
        return networks;
    }
    networks[input.network] = { endpoints: [{ fromRegistry: input.clusterName }] };
    for (const peer of input.peers) {
        networks[peer.network] = { endpoints: [{ fromRegistry: peer.clusterName }], gateways: [peerGateway(input, peer, registryGateway)] };
    }
    return networks;
}

/**
 * How this cluster's istiod reaches one peer network's gateway: through the peer's registry where
 * the peer has a load balancer (istiod reads its address from the peer's Service), else at the
 * address the peer publishes or, for a peer of this stack, its node address and the shared port.
 */
function peerGateway(
    input: IstioValuesInput,
    peer: IstioPeer,
    registryGateway: { registryServiceName: string; port: number },
): { address: string; port: number } | { registryServiceName: string; port: number } {
    if ((peer.exposure ?? input.exposure) === "LoadBalancer") return registryGateway;
    if (peer.eastWestAddress) return splitHostPort(peer.eastWestAddress);
    if (!peer.nodeAddress) {
        throw new Error(`cluster ${input.clusterName}: peer ${peer.clusterName} has no node address for NodePort exposure`);
    }
    return { address: peer.nodeAddress, port: input.nodePorts.eastWest };
}

/**
 * How istiod accepts peers' identities: each peer trust domain in `caCertificates[].trustDomains`
 * (one entry per peer, as upstream's SPIRE federation sample scopes trust per bundle), and no
 * `trustDomainAliases`. In Istio 1.30.3:
 *
 * - Inbound mTLS accepts a client SAN under the own trust domain, the aliases and every
 *   `caCertificates[].trustDomains` alike (pilot/pkg/networking/plugin/authn/util.go:23-33 feeds
 *   pilot/pkg/security/model/authentication.go:189-192, which matches SAN prefixes
 *   `spiffe://<td>/`), so listing peers here keeps cross-domain mTLS working.
 * - Only aliases rewrite AuthorizationPolicy principals: a principal in the own domain (or
 *   `cluster.local`) is expanded to every alias (pilot/pkg/networking/plugin/authz/authorization.go:66,
 *   pilot/pkg/security/trustdomain/bundle.go:54-120). With peers as aliases a peer's
 *   `spiffe://bar.com/ns/x/sa/y` would satisfy a policy written for `foo.com/ns/x/sa/y`; without,
 *   a policy must name the peer's identity to admit it.
 * - Only aliases widen outbound SAN checks (pilot/pkg/model/push_context.go:1635). The SANs of a
 *   peer's endpoints are its own: istiod reads the peer's trust domain from the peer's `istio`
 *   ConfigMap (pilot/pkg/serviceregistry/kube/controller/multicluster.go:131-149,
 *   pkg/config/mesh/watchers.go:87-96, controller/endpoint_builder.go:55), which the peer reader
 *   role grants (components/peerReaders.ts).
 * - An entry without `pem` or `spiffeBundleUrl` adds no trust anchor to istiod
 *   (pilot/pkg/trustbundle/trustbundle.go:215-241): the peers' roots reach proxies from SPIRE
 *   (its ROOTCA carries every federated bundle), never through istiod's CA bundle, where a peer
 *   root would also validate istiod's own serving certificate.
 */
export function peerTrustDomainSettings(peers: Pick<IstioPeer, "trustDomain">[]): Pick<IstiodValues["meshConfig"], "trustDomainAliases" | "caCertificates"> {
    return {
        trustDomainAliases: [],
        caCertificates: peers.map((peer) => ({ trustDomains: [peer.trustDomain] })),
    };
}

/** The `istiod` chart of one primary cluster. */
export function istiodValues(input: IstioValuesInput): IstiodValues {
    return {
        global: {
            // The istiod chart reads this with a default of true (templates/reader-clusterrole.yaml:2,
            // reader-clusterrolebinding.yaml:2) though its values.yaml does not declare it: without
            // it the chart would bind its stock reader role, which reads every Secret.
            enableReaderRBAC: false,
            meshID: input.meshId,
            multiCluster: { clusterName: input.clusterName },
            network: input.network,
            meshNetworks: meshNetworks(input),
        },
        meshConfig: {
            // Must equal SPIRE's trust domain: istiod derives the identities it expects from it.
            trustDomain: input.trustDomain,
            ...peerTrustDomainSettings(input.peers),
            defaultConfig: {
                // The agent answers DNS for mesh services, so a name that only a peer cluster
                // defines (the failover demo) still resolves. A map of strings in ProxyConfig.
                proxyMetadata: { ISTIO_META_DNS_CAPTURE: "true" },
            },
        },
        // The chart has no value for this; its generic env map reaches istiod's container.
        env: { ENABLE_NATIVE_SIDECARS: nativeSidecarsEnvValue() },
        sidecarInjectorWebhook: {
            templates: spireInjectionTemplates(),
            // Every injected workload takes its identity from SPIRE without an annotation of its
            // own; gateway pods name their templates explicitly and are not affected.
            defaultTemplates: [...sidecarTemplates],
        },
    };
}

/** Pod annotations that make a gateway take its identity from SPIRE. */
function gatewayPodAnnotations(): Record<string, string> {
    return { "inject.istio.io/templates": gatewayTemplates.join(",") };
}

function loadBalancerService(sourceRanges: string[]): GatewayValues["service"] {
    return { type: "LoadBalancer", ...(sourceRanges.length > 0 ? { loadBalancerSourceRanges: sourceRanges } : {}) };
}

function tcpPort(name: string, port: number, nodePort?: number): GatewayServicePort {
    return { name, port, targetPort: port, protocol: "TCP", ...(nodePort !== undefined ? { nodePort } : {}) };
}

/**
 * The east-west gateway: one Service port, cross-network mTLS on 15443, the only port peers use.
 * Not the chart's `networkGateway`, which always renders three more (the status port 15021, and
 * 15012 and 15017, which expose istiod to remote clusters of a primary-remote mesh; every cluster
 * here is a primary with its own istiod) and gives them no node port. What `networkGateway` would
 * set besides the ports is set by hand: the network label, which the chart puts on the pods and
 * the Service (istiod takes a Service with that label and a 15443 port as its network's gateway),
 * and the network view the gateway requests.
 */
export function eastWestGatewayValues(input: IstioValuesInput): GatewayValues {
    const tls = tcpPort("tls", crossNetworkPort, input.exposure === "NodePort" ? input.nodePorts.eastWest : undefined);
    return {
        labels: { [networkLabel]: input.network },
        env: { ISTIO_META_REQUESTED_NETWORK_VIEW: input.network },
        podAnnotations: gatewayPodAnnotations(),
        // Peers' proxies connect here from their own clusters, not from the clients' networks.
        service:
            input.exposure === "LoadBalancer"
                ? { ...loadBalancerService(input.peerSourceRanges), ports: [tls] }
                : { type: "NodePort", ports: [tls] },
    };
}

/** The ingress gateway (the seed's helloworld entry point). */
export function ingressGatewayValues(input: IstioValuesInput): GatewayValues {
    if (input.exposure === "LoadBalancer") {
        return { podAnnotations: gatewayPodAnnotations(), service: loadBalancerService(input.loadBalancerSourceRanges) };
    }
    return {
        podAnnotations: gatewayPodAnnotations(),
        service: {
            type: "NodePort",
            // The chart replaces its port list with this one, so all three ports are listed.
            ports: [tcpPort("status-port", 15021), tcpPort("http2", ingressHttpPort, input.nodePorts.ingressHttp), tcpPort("https", 443)],
        },
    };
}

/** `host:port`, bracketing IPv6 hosts. */
export function hostPort(host: string, port: number): string {
    return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Spec of the Gateway that lets peers' proxies reach this network's services through 15443. */
export function crossNetworkGatewaySpec(): Record<string, unknown> {
    return {
        selector: { ...eastWestGatewaySelector },
        servers: [
            {
                port: { number: crossNetworkPort, name: "tls", protocol: "TLS" },
                // The gateway routes on the SNI that encodes the target service and never
                // terminates the peers' mTLS: identities stay end to end.
                tls: { mode: "AUTO_PASSTHROUGH" },
                hosts: ["*.local"],
            },
        ],
    };
}

/** Spec of the mesh-wide PeerAuthentication (in the root namespace): plaintext is refused. */
export function strictPeerAuthenticationSpec(): Record<string, unknown> {
    return { mtls: { mode: "STRICT" } };
}
