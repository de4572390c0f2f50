import { createPrivateKey, createPublicKey, KeyObject, X509Certificate } from "node:crypto";

/**
 * Label of a Secret that holds a domain's root CA (certificate and key). The program writes no
 * such Secret any more (the root's key stays in the stack's state), but the policy pack's
 * `no-root-ca-cluster-issuer` still recognises a root copied into a cluster by it, so it must stay
 * in step with the policy's default `rootSecretLabel` (a test checks both).
 */
export const rootCaSecretLabel = "spire-istio-mesh/root-ca";

/**
 * Why a supplied root's private key cannot sign for its certificate, or undefined when it can.
 * Config validation calls it before anything is declared; the message never holds the key.
 */
export function rootKeyProblem(certificatePem: string, privateKeyPem: string): string | undefined {
    let privateKey: KeyObject;
    try {
        privateKey = createPrivateKey(privateKeyPem);
    } catch {
        return "the key it holds is not a PEM private key";
    }
    let certificateKey: KeyObject;
    try {
        certificateKey = new X509Certificate(certificatePem).publicKey;
    } catch {
        return "the certificate is not a PEM X.509 certificate";
    }
    return createPublicKey(privateKey).equals(certificateKey) ? undefined : "the key it holds belongs to another certificate";
}

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
