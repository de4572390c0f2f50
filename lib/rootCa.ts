/**
 * Label on every Secret that holds a domain's root CA (certificate and key). The policy pack's
 * `no-root-ca-cluster-issuer` recognises root Secrets by it, so it must stay in step with the
 * policy's default `rootSecretLabel` (a test checks both).
 */
export const rootCaSecretLabel = "spire-istio-mesh/root-ca";
