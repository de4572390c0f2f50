import { DeclaredResource, ProgramRun } from "./program";

/**
 * Objects whose deletion releases cloud resources that deleting a GKE cluster does not reliably
 * release: LoadBalancer Services (forwarding and firewall rules), charts that create them (Istio's
 * gateways, LoadBalancer by default), and the SPIRE namespace, whose volume claim holds a disk.
 */
export function ownsCloudResources(resource: DeclaredResource): boolean {
    return (
        (resource.type === "kubernetes:core/v1:Service" && resource.inputs.spec?.type === "LoadBalancer") ||
        (resource.type === "kubernetes:core/v1:Namespace" && resource.inputs.metadata?.name === "spire-server") ||
        (resource.type === "kubernetes:helm.sh/v3:Release" && resource.inputs.chart === "gateway")
    );
}

/**
 * What an object in `cluster` must be `deletedWith`: the created cluster, except, on GKE, objects
 * owning cloud resources, which are deleted on their own first ("" = not deletedWith anything).
 */
export function expectedDeletedWith<T>(run: ProgramRun<T>, stack: string, cluster: string, resource: DeclaredResource): string {
    if (stack === "cluster-kind") return run.one("command:local:Command", `${cluster}-kind`).urn;
    if (ownsCloudResources(resource)) return "";
    return run.one("gcp:container/cluster:Cluster", cluster).urn;
}
