import { ResourcePolicyDefinition, toResourcePolicy } from "../lib/definition";
import { PlainResource } from "../lib/resource";
import { at } from "../lib/values";
import { gkeClusterType, gkeLabel } from "./gkeClusterSecurity";

export function gkeDeletionProtectionProblems(resource: PlainResource): string[] {
    if (resource.type !== gkeClusterType) return [];
    // The provider's default is true, so only an explicit false turns protection off.
    if (at(resource.props, ["deletionProtection"]) !== false) return [];
    return [
        `${gkeLabel(resource)} has deletion protection off, so a mistaken destroy or replacement deletes the cluster with its SPIRE data and CA secrets; set deletionProtection: true (config gkeDeletionProtection) and turn it off only to destroy.`,
    ];
}

export const definition: ResourcePolicyDefinition = {
    scope: "resource",
    name: "gke-deletion-protection",
    description: "GKE clusters keep deletion protection on (advisory: it must be turned off deliberately before pulumi destroy).",
    enforcementLevel: "advisory",
    config: {},
    validate: (resource) => gkeDeletionProtectionProblems(resource),
};

export const policy = toResourcePolicy(definition);
