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
 */
export function createIstioNamespace(cluster: MeshCluster, network: string, parent: pulumi.Resource): k8s.core.v1.Namespace {
    return new k8s.core.v1.Namespace(
        `${cluster.clusterName}-${istioNamespaceName}`,
        {
            metadata: {
                name: istioNamespaceName,
                labels: { "topology.istio.io/network": network },
            },
        },
        inCluster(cluster, parent),
    );
}
