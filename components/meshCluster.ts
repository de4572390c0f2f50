import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/**
 * What every later component needs of a cluster, whichever platform made it. `GkeCluster` and
 * `KindCluster` both provide it.
 */
export interface MeshCluster extends pulumi.ComponentResource {
    /** The domain's cluster name. */
    readonly clusterName: string;
    /** The one Kubernetes provider for this cluster; every object in it goes through this. */
    readonly provider: k8s.Provider;
    /** Kubeconfig for the program's own access (a Pulumi secret). */
    readonly kubeconfig: pulumi.Output<string>;
    /** API server URL reachable from a peer cluster's pods (for istiod's remote secrets). */
    readonly apiServerUrl: pulumi.Output<string>;
    /**
     * Address peers use to reach NodePort Services of this cluster; undefined where the platform
     * offers none (GKE, which exposes through LoadBalancers).
     */
    readonly nodeAddress: pulumi.Output<string> | undefined;
    /**
     * The resource whose deletion deletes the cluster, when the program created it: objects inside
     * are marked `deletedWith` it so that destroy does not wait on each of them. Undefined for an
     * existing cluster, whose objects are deleted one by one.
     */
    readonly lifecycleOwner: pulumi.Resource | undefined;
    /**
     * True where objects inside the cluster own cloud resources that deleting the cluster does
     * not reliably delete (GKE: a LoadBalancer Service's forwarding and firewall rules, a PVC's
     * disk). Such objects are deleted on their own before the cluster, not `deletedWith` it.
     */
    readonly objectsOwnCloudResources: boolean;
}

/**
 * Resource options for an object inside `cluster`: its explicit provider, its parent component,
 * and `deletedWith` the cluster when the program owns the cluster.
 */
export function inCluster(
    cluster: MeshCluster,
    parent: pulumi.Resource,
    extra: pulumi.CustomResourceOptions = {},
): pulumi.CustomResourceOptions {
    return {
        ...extra,
        parent,
        provider: cluster.provider,
        ...(cluster.lifecycleOwner ? { deletedWith: cluster.lifecycleOwner } : {}),
    };
}

/**
 * Resource options for an object that owns cloud resources outside the cluster (a LoadBalancer
 * Service, a chart that creates one, a namespace holding persistent volumes): like `inCluster`,
 * but on platforms where deleting the cluster would leave those behind, the object is deleted
 * on its own, before the cluster.
 */
export function inClusterOwningCloudResources(
    cluster: MeshCluster,
    parent: pulumi.Resource,
    extra: pulumi.CustomResourceOptions = {},
): pulumi.CustomResourceOptions {
    const options = inCluster(cluster, parent, extra);
    if (cluster.objectsOwnCloudResources) delete options.deletedWith;
    return options;
}
