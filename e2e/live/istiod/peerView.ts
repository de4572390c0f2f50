/**
 * What a peer cluster's own API server says its istiod-visible state is: its network (the label
 * on its `istio-system`), its Services with the ready addresses of their EndpointSlices, and
 * where its east-west gateway listens (the node address and node port of the Service port
 * 15443, or its load balancer address). The expectations of the live checks, read with the test
 * bed's admin credential, independently of the program.
 */
import { ExpectedGateway, PeerService } from "./checks";
import { Kube, kubectl, kubectlJson, List } from "./kube";

/** Istio's cross-network port (the east-west gateway's SNI passthrough). */
export const crossNetworkPort = 15443;

interface ServiceObject {
    metadata: { name: string; namespace: string; labels?: Record<string, string> };
    spec: { type?: string; clusterIP?: string; clusterIPs?: string[]; ports?: { port: number; nodePort?: number }[] };
    status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

interface EndpointSliceObject {
    metadata: { namespace: string; labels?: Record<string, string> };
    endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] | null;
}

interface NodeObject {
    status?: { addresses?: { type: string; address: string }[] };
}

export interface PeerView {
    network: string;
    services: PeerService[];
    gateway: ExpectedGateway | undefined;
}

/** Services with their ready EndpointSlice addresses; `default/kubernetes` is left out (its endpoint reconciler is off on the test bed). */
export function peerServices(services: ServiceObject[], slices: EndpointSliceObject[]): PeerService[] {
    const ready = new Map<string, string[]>();
    for (const slice of slices) {
        const key = `${slice.metadata.namespace}/${slice.metadata.labels?.["kubernetes.io/service-name"]}`;
        const addresses = (slice.endpoints ?? []).filter((endpoint) => endpoint.conditions?.ready !== false).flatMap((endpoint) => endpoint.addresses);
        ready.set(key, [...(ready.get(key) ?? []), ...addresses]);
    }
    return services
        .filter((service) => !(service.metadata.namespace === "default" && service.metadata.name === "kubernetes"))
        .map((service) => ({
            name: service.metadata.name,
            namespace: service.metadata.namespace,
            clusterIPs: (service.spec.clusterIPs ?? (service.spec.clusterIP ? [service.spec.clusterIP] : [])).filter((ip) => ip !== "None"),
            readyAddresses: ready.get(`${service.metadata.namespace}/${service.metadata.name}`) ?? [],
        }));
}

/** The east-west gateway of a network: the Service of `namespace` with port 15443, at a node's address and its node port, or at its load balancer. */
export function eastWestGateway(network: string, services: ServiceObject[], nodes: NodeObject[]): ExpectedGateway | undefined {
    const candidates = services.filter((service) => service.spec.ports?.some((port) => port.port === crossNetworkPort));
    if (candidates.length !== 1) throw new Error(`want one Service with port ${crossNetworkPort} in istio-system, found ${candidates.map((s) => s.metadata.name).join(", ") || "none"}`);
    const service = candidates[0];
    if (service.spec.type === "LoadBalancer") {
        const ingress = service.status?.loadBalancer?.ingress?.[0];
        const address = ingress?.ip ?? ingress?.hostname;
        return address === undefined ? undefined : { network, address, port: crossNetworkPort };
    }
    const nodePort = service.spec.ports?.find((port) => port.port === crossNetworkPort)?.nodePort;
    const address = nodes.flatMap((node) => node.status?.addresses ?? []).find((entry) => entry.type === "ExternalIP" || entry.type === "InternalIP")?.address;
    if (nodePort === undefined || address === undefined) return undefined;
    return { network, address, port: nodePort };
}

/** Reads a peer's view from its API server with the test bed's admin credential. */
export async function readPeerView(kube: Kube, istioNamespace = "istio-system"): Promise<PeerView> {
    const network = (await kubectl(kube, ["get", "namespace", istioNamespace, "-o", "jsonpath={.metadata.labels.topology\\.istio\\.io/network}"])).trim();
    const services = await kubectlJson<List<ServiceObject>>(kube, ["get", "services", "--all-namespaces"]);
    const slices = await kubectlJson<List<EndpointSliceObject>>(kube, ["get", "endpointslices.discovery.k8s.io", "--all-namespaces"]);
    const nodes = await kubectlJson<List<NodeObject>>(kube, ["get", "nodes"]);
    const istioServices = services.items.filter((service) => service.metadata.namespace === istioNamespace);
    return { network, services: peerServices(services.items, slices.items), gateway: eastWestGateway(network, istioServices, nodes.items) };
}
