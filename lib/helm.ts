/**
 * Seconds Helm may wait for a release whose pods pull their images on first install (SPIRE,
 * cert-manager, istiod, the gateways). The Kubernetes provider's default is 300 s, which a cold
 * node pulling several images (and GKE provisioning a load balancer) can overrun; a timed-out
 * first install leaves a failed release that the next `pulumi up` has to repair.
 */
export const firstInstallTimeoutSeconds = 900;

/**
 * Helm post-renderer for charts that mark their CRDs `helm.sh/resource-policy: keep` (Istio's
 * `base` writes it into every CRD from its own files, with no value to turn it off; `spire-crds`
 * sets it by default). Helm decides on uninstall from the manifest it stored, so without this
 * `pulumi destroy` would leave those CRDs behind. The kubernetes provider runs it with the project
 * root as its working directory (Pulumi starts providers there), so the relative path is the same
 * on every checkout and in the state.
 */
export const dropKeepPolicyPostRenderer = "./scripts/helm-postrender-drop-keep.sh";

/**
 * Whether `pulumi destroy` must leave the charts' CRDs (Istio's, SPIRE's, cert-manager's) in a
 * cluster. Deleting a CRD deletes every object of its kind in the whole cluster. In a cluster the
 * program created, those objects are its own and the cluster goes too; in a cluster it was given
 * (platform `existing`, a `kind.context`), other teams' Certificates, Istio and SPIRE objects would
 * go with them, so there the CRDs stay unless the user opted in with `removeCrdsOnDestroy`.
 */
export function crdsOutliveDestroy(cluster: {
    /** True when the program created the cluster (kind, GKE) and deletes it on destroy. */
    createdByProgram: boolean;
    /** The stack's `removeCrdsOnDestroy`: the user's consent to delete them where it did not. */
    removeCrdsOnDestroy: boolean;
}): boolean {
    return !cluster.createdByProgram && !cluster.removeCrdsOnDestroy;
}
