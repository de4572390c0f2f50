import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inCluster, MeshCluster } from "./meshCluster";

/** Namespace of istiod, its plug-in CA Secret (`cacerts`) and the gateways. */
export const istioNamespaceName = "istio-system";

/**
 * `istio-system`, labelled with the cluster's Istio network before anything lands in it: istiod
 * reads the label to learn its own network, and cert-manager writes istiod's `cacerts` here
 * before istiod starts. Consumers take the namespace name from this resource's output, which
 * orders them after it without a dependsOn.
 *
 * @param spireRelease The SPIRE release, whose CSI driver mounts the agent socket into istiod's
 *   and the gateways' pods. Deleting the namespace waits for those pods, and the kubelet cannot
 *   unmount a CSI volume once its driver is gone: the pods would hang in Terminating and the
 *   delete time out. Depending on the release makes destroy delete the namespace first (which
 *   matters in an adopted cluster, where objects are deleted one by one). No value of the release
 *   is used, hence a dependsOn. It may be a promise still pending: SPIRE is declared after the
 *   namespace, since the root CA declared before SPIRE writes istiod's `cacerts` into it.
 */
export function createIstioNamespace(
    cluster: MeshCluster,
    network: string,
    parent: pulumi.Resource,
    spireRelease: pulumi.Input<pulumi.Resource>,
): k8s.core.v1.Namespace {
    return new k8s.core.v1.Namespace(
        `${cluster.clusterName}-${istioNamespaceName}`,
        {
            metadata: {
                name: istioNamespaceName,
                labels: { "topology.istio.io/network": network },
            },
        },
        inCluster(cluster, parent, { dependsOn: spireRelease }),
    );
}
