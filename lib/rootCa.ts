/**
 * Label of a Secret that holds a domain's root CA (certificate and key). The program writes no
 * such Secret any more (the root's key stays in the stack's state), but the policy pack's
 * `no-root-ca-cluster-issuer` still recognises a root copied into a cluster by it, so it must stay
 * in step with the policy's default `rootSecretLabel` (a test checks both).
 */
export const rootCaSecretLabel = "spire-istio-mesh/root-ca";

/**
 * Label on each Secret that backs one of a domain's CA Issuers with an intermediate (signed by the
 * root outside the cluster); its value names the consumer (`spire` or `istio`).
 */
export const intermediateCaSecretLabel = "spire-istio-mesh/intermediate-ca";

/**
 * How long before its expiry a `pulumi up` replaces a domain's intermediate CA (hours; the tls
 * provider then plans a replacement). cert-manager's CA issuer does not cap what it signs at its
 * own expiry (cert-manager v1.21.1 pkg/util/pki/certificatetemplate.go:55-60 sets NotAfter from the
 * requested duration only), so every `cacerts` an old intermediate signed must expire before that
 * intermediate does: config validation keeps `istiodCertDuration` within this window.
 */
export const intermediateCaEarlyRenewalHours = 2880;
