import { ResourcePolicyDefinition, toResourcePolicy } from "../lib/definition";
import { PlainResource } from "../lib/resource";
import { at, isUnknown } from "../lib/values";
import { gkeClusterType, gkeLabel } from "./gkeClusterSecurity";

export function gkePrivateNodesProblems(resource: PlainResource): string[] {
    if (resource.type !== gkeClusterType) return [];
    const enabled = at(resource.props, ["privateClusterConfig", "enablePrivateNodes"]);
    if (enabled === true || isUnknown(enabled)) return [];
    return [
        `${gkeLabel(resource)} gives its nodes public IP addresses; set privateClusterConfig.enablePrivateNodes: true (with Cloud NAT for egress) so nodes are reachable only through load balancers.`,
    ];
}

export const definition: ResourcePolicyDefinition = {
    scope: "resource",
    name: "gke-private-nodes",
    description: "GKE clusters use private nodes (privateClusterConfig.enablePrivateNodes), exposing workloads only through load balancers (advisory).",
    enforcementLevel: "advisory",
    config: {},
    validate: (resource) => gkePrivateNodesProblems(resource),
};

export const policy = toResourcePolicy(definition);
