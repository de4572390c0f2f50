import { ResourcePolicyDefinition, toResourcePolicy } from "../lib/definition";
import { isDefaultProvider, isKubernetesResource } from "../lib/kubernetes";
import { PlainResource } from "../lib/resource";

export function explicitProviderProblems(resource: PlainResource): string[] {
    if (!isKubernetesResource(resource)) return [];
    const fix = "create it with inCluster(cluster, parent) so it goes through its cluster's own provider";
    if (resource.provider === undefined || resource.provider === "") {
        return [`${resource.type} "${resource.name}" has no explicit Kubernetes provider; ${fix}.`];
    }
    if (isDefaultProvider(resource.provider)) {
        return [`${resource.type} "${resource.name}" uses the default Kubernetes provider (whatever ~/.kube/config points at); ${fix}.`];
    }
    return [];
}

export const definition: ResourcePolicyDefinition = {
    scope: "resource",
    name: "kubernetes-explicit-provider",
    description:
        "Every Kubernetes resource (objects, custom resources, Helm releases) goes through an explicit per-cluster provider, never the default provider, so nothing lands in whatever cluster the local kubeconfig names.",
    enforcementLevel: "mandatory",
    config: {},
    validate: (resource) => explicitProviderProblems(resource),
};

export const policy = toResourcePolicy(definition);
