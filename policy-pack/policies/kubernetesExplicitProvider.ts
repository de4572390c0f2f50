import { ResourcePolicyDefinition, toResourcePolicy } from "../lib/definition";
import { certManagerComponentType, isDefaultProvider, isKubernetesResource } from "../lib/kubernetes";
import { PlainResource } from "../lib/resource";

/**
 * cert-manager's component is remote: its plugin creates the Helm Release, which gets the
 * Kubernetes provider the component passes on in `providers`. Where that map is known (the
 * offline plan; the engine's analyzer sees the child Release itself), it must name the cluster's
 * provider.
 */
function remoteComponentProviderProblems(resource: PlainResource): string[] {
    if (resource.type !== certManagerComponentType || resource.providers === undefined) return [];
    const fix = "pass the cluster's provider in the component's `providers`, which the engine hands to its plugin, so its Release goes through it";
    const kubernetes = resource.providers.kubernetes;
    if (kubernetes === undefined || kubernetes === "") {
        return [`cert-manager component "${resource.name}" passes no Kubernetes provider to its Helm Release, which then uses the default provider (whatever ~/.kube/config points at); ${fix}.`];
    }
    if (isDefaultProvider(kubernetes)) {
        return [`cert-manager component "${resource.name}" passes the default Kubernetes provider to its Helm Release; ${fix}.`];
    }
    return [];
}

export function explicitProviderProblems(resource: PlainResource): string[] {
    if (resource.type === certManagerComponentType) return remoteComponentProviderProblems(resource);
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
        "Every Kubernetes resource (objects, custom resources, Helm releases, and the Release cert-manager's component creates, through the providers it passes on) goes through an explicit per-cluster provider, never the default provider, so nothing lands in whatever cluster the local kubeconfig names.",
    enforcementLevel: "mandatory",
    config: {},
    validate: (resource) => explicitProviderProblems(resource),
};

export const policy = toResourcePolicy(definition);
