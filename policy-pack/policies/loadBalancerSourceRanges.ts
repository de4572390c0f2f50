import { ResourcePolicyDefinition, toResourcePolicy } from "../lib/definition";
import { isKind, isReleaseOf, labelsOf, objectLabel, releaseLabel, releaseValues } from "../lib/kubernetes";
import { PlainResource } from "../lib/resource";
import { at, entriesAt, isUnknown, itemsAt } from "../lib/values";
import { bundleEndpointLabel } from "./bundleEndpointService";

/** Annotations that make a cloud load balancer internal (GKE current and legacy spellings). */
export const internalLoadBalancerAnnotations: Readonly<Record<string, string>> = {
    "networking.gke.io/load-balancer-type": "Internal",
    "cloud.google.com/load-balancer-type": "Internal",
};

function isInternal(annotations: [string, unknown][]): boolean {
    return annotations.some(([key, value]) => typeof value === "string" && internalLoadBalancerAnnotations[key]?.toLowerCase() === value.toLowerCase());
}

function hasSourceRanges(ranges: unknown): boolean {
    return isUnknown(ranges) || itemsAt(ranges, []).length > 0;
}

/**
 * Peers, not clients, connect to the bundle endpoint (peers' SPIRE servers) and to a network
 * gateway (peers' proxies), from their own egress addresses. Ranges meant for clients would shut
 * them out, so these take the program's separate `peerSourceRanges`.
 */
const advice = {
    clients: "set loadBalancerSourceRanges (config loadBalancerSourceRanges) to the CIDRs of its clients, or make it internal",
    peers: "set loadBalancerSourceRanges (config peerSourceRanges) to every peer cluster's egress addresses, or make it internal",
};

export function loadBalancerProblems(resource: PlainResource): string[] {
    if (isKind(resource, "", "Service")) {
        if (at(resource.props, ["spec", "type"]) !== "LoadBalancer") return [];
        if (isInternal(entriesAt(resource.props, ["metadata", "annotations"]))) return [];
        if (hasSourceRanges(at(resource.props, ["spec", "loadBalancerSourceRanges"]))) return [];
        const peerFacing = labelsOf(resource)[bundleEndpointLabel.key] === bundleEndpointLabel.value;
        return [`${objectLabel(resource)} is a public LoadBalancer open to every address; ${peerFacing ? advice.peers : advice.clients}.`];
    }
    if (isReleaseOf(resource, "gateway")) {
        // The Istio gateway chart creates a LoadBalancer Service unless told otherwise.
        const values = releaseValues(resource);
        const service = at(values, ["service"]);
        const type = at(service, ["type"]) ?? "LoadBalancer";
        if (type !== "LoadBalancer") return [];
        if (isInternal(entriesAt(service, ["annotations"]))) return [];
        if (hasSourceRanges(at(service, ["loadBalancerSourceRanges"]))) return [];
        // `networkGateway`, or the network label it would set (which this program sets by hand to
        // choose the Service's ports), makes the release the network's east-west gateway, which peers reach.
        const networkGateway = at(values, ["networkGateway"]);
        const networkLabel = at(values, ["labels", "topology.istio.io/network"]);
        const peerFacing = [networkGateway, networkLabel].some((value) => isUnknown(value) || (typeof value === "string" && value !== ""));
        return [
            `${releaseLabel(resource)} creates a public LoadBalancer open to every address; ${peerFacing ? advice.peers : advice.clients} (values service.loadBalancerSourceRanges).`,
        ];
    }
    return [];
}

export const definition: ResourcePolicyDefinition = {
    scope: "resource",
    name: "load-balancer-source-ranges",
    description:
        "A public LoadBalancer (a Service of type LoadBalancer, or an Istio gateway release whose Service defaults to one) restricts who reaches it with loadBalancerSourceRanges: clients for the ingress, every peer's egress addresses for the bundle endpoint and east-west gateway (advisory).",
    enforcementLevel: "advisory",
    config: {},
    validate: (resource) => loadBalancerProblems(resource),
};

export const policy = toResourcePolicy(definition);
