import { createPrivateKey, createPublicKey, KeyObject, X509Certificate } from "node:crypto";

/**
 * Label on every Secret that holds a domain's root CA (certificate and key). The policy pack's
 * `no-root-ca-cluster-issuer` recognises root Secrets by it, so it must stay in step with the
 * policy's default `rootSecretLabel` (a test checks both).
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
