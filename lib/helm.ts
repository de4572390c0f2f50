/**
 * Seconds Helm may wait for a release whose pods pull their images on first install (SPIRE,
 * cert-manager, istiod, the gateways). The Kubernetes provider's default is 300 s, which a cold
 * node pulling several images (and GKE provisioning a load balancer) can overrun; a timed-out
 * first install leaves a failed release that the next `pulumi up` has to repair.
 */
export const firstInstallTimeoutSeconds = 900;
