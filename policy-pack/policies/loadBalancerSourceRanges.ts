import { ResourcePolicyDefinition, toResourcePolicy } from "../lib/definition";
import { isKind, isReleaseOf, objectLabel, releaseLabel, releaseValues } from "../lib/kubernetes";
import { PlainResource } from "../lib/resource";
import { at, entriesAt, isUnknown, itemsAt } from "../lib/values";

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

const advice =
    "set loadBalancerSourceRanges (config loadBalancerSourceRanges) to the peer clusters' and clients' CIDRs, or make it internal";

export function loadBalancerProblems(resource: PlainResource): string[] {
    if (isKind(resource, "", "Service")) {
        if (at(resource.props, ["spec", "type"]) !== "LoadBalancer") return [];
        if (isInternal(entriesAt(resource.props, ["metadata", "annotations"]))) return [];
        if (hasSourceRanges(at(resource.props, ["spec", "loadBalancerSourceRanges"]))) return [];
        return [`${objectLabel(resource)} is a public LoadBalancer open to every address; ${advice}.`];
    }
    if (isReleaseOf(resource, "gateway")) {
        // The Istio gateway chart creates a LoadBalancer Service unless told otherwise.
        const service = at(releaseValues(resource), ["service"]);
        const type = at(service, ["type"]) ?? "LoadBalancer";
        if (type !== "LoadBalancer") return [];
        if (isInternal(entriesAt(service, ["annotations"]))) return [];
        if (hasSourceRanges(at(service, ["loadBalancerSourceRanges"]))) return [];
        return [`${releaseLabel(resource)} creates a public LoadBalancer open to every address; ${advice} (values service.loadBalancerSourceRanges).`];
    }
    return [];
}

export const definition: ResourcePolicyDefinition = {
    scope: "resource",
    name: "load-balancer-source-ranges",
    description:
        "A public LoadBalancer (a Service of type LoadBalancer, or an Istio gateway release whose Service defaults to one) restricts its clients with loadBalancerSourceRanges (advisory).",
    enforcementLevel: "advisory",
    config: {},
    validate: (resource) => loadBalancerProblems(resource),
};

export const policy = toResourcePolicy(definition);
