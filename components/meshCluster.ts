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
