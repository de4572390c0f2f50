/**
 * Real certificates and realistic API answers for the verify tests: a domain's PKI as the mesh
 * builds it (cert-manager root -> SPIRE intermediate -> workload SVID, and istiod's cacerts CA
 * under the same root), Envoy config dumps and `spire-server bundle list` output.
 */
import { X509Certificate } from "node:crypto";
import { spiffeBundleJson } from "../lib/spiffeBundle";
import { createTestRootCa, generateTestKeyPair, issueCertificate } from "./harness/certificates";

export interface Authority {
    certificatePem: string;
    privateKeyPem: string;
}

export interface DomainPki {
    trustDomain: string;
    root: Authority;
    /** SPIRE server's CA, signed by the root (UpstreamAuthority cert-manager): URI SAN spiffe://<td>. */
    spireCa: Authority;
    /** istiod's plugged CA (`cacerts`), signed by the same root, without a SPIFFE URI SAN. */
    istiodCa: Authority;
    /** The domain's SPIFFE bundle, as the program publishes it in stack outputs. */
    bundleJson: string;
}

async function intermediate(root: Authority, subject: string, uris: string[], validityHours = 48): Promise<Authority> {
    const key = generateTestKeyPair("ecdsa-p256");
    const certificatePem = await issueCertificate({
        subject,
        subjectKeyPem: key.privateKeyPem,
        issuer: root,
        isCa: true,
        pathLength: 0,
        validityHours,
        uris,
    });
    return { certificatePem, privateKeyPem: key.privateKeyPem };
}

export async function domainPki(trustDomain: string): Promise<DomainPki> {
    const root = await createTestRootCa(`${trustDomain} root`);
    return {
        trustDomain,
        root,
        spireCa: await intermediate(root, `CN=${trustDomain} SPIRE,O=SPIFFE`, [`spiffe://${trustDomain}`]),
        istiodCa: await intermediate(root, `CN=istiod ${trustDomain}`, []),
        bundleJson: spiffeBundleJson(root.certificatePem),
    };
}

/** A workload SVID (leaf PEM) for `id`, issued by `issuer`. */
export async function svid(issuer: Authority, ids: string[], validityHours = 1): Promise<string> {
    const key = generateTestKeyPair("ecdsa-p256");
    return issueCertificate({ subject: "O=SPIRE,C=US", subjectKeyPem: key.privateKeyPem, issuer, isCa: false, validityHours, uris: ids });
}

/** An intermediate of `lifetimeHours`, like cert-manager's istiod cacerts. */
export async function cacertsCertificate(root: Authority, lifetimeHours: number): Promise<string> {
    return (await intermediate(root, "CN=istiod cacerts", [], lifetimeHours)).certificatePem;
}

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");

/** How the proxy's ROOTCA secret holds trust: plain trusted_ca, or SPIRE's SPIFFE validator per trust domain. */
export type RootShape = "trusted_ca" | "spiffe_validator";

/**
 * What `pilot-agent request GET config_dump?resource=dynamic_active_secrets` prints: Envoy's JSON
 * (snake_case), one DynamicSecret per SDS secret, private keys redacted.
 */
export function secretsConfigDump(chainPems: string[], trusted: { trustDomain: string; pem: string }[], shape: RootShape = "trusted_ca"): string {
    const validationContext =
        shape === "trusted_ca"
            ? { trusted_ca: { inline_bytes: b64(trusted.map((t) => t.pem).join("")) } }
            : {
                  custom_validator_config: {
                      name: "envoy.tls.cert_validator.spiffe",
                      typed_config: {
                          "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig",
                          trust_domains: trusted.map((t) => ({ name: t.trustDomain, trust_bundle: { inline_bytes: b64(t.pem) } })),
                      },
                  },
              };
    const dynamic = (name: string, secret: object) => ({
        "@type": "type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret",
        name,
        version_info: "2026-01-01T00:00:00Z/1",
        last_updated: "2026-01-01T00:00:00.000Z",
        secret: { "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", name, ...secret },
    });
    return JSON.stringify(
        {
            configs: [
                dynamic("default", {
                    tls_certificate: {
                        certificate_chain: { inline_bytes: b64(chainPems.join("")) },
                        private_key: { inline_bytes: b64("[redacted]") },
                    },
                }),
                dynamic("ROOTCA", { validation_context: validationContext }),
            ],
        },
        null,
        2,
    );
}

/** DER base64 of a PEM certificate, as SPIRE's API prints `asn1`. */
export function derBase64(pem: string): string {
    return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
}

/** What `spire-server bundle list -output json` prints for the given federated roots. */
export function bundleListJson(bundles: { trustDomain: string; rootPems: string[] }[]): string {
    return JSON.stringify({
        bundles: bundles.map((bundle) => ({
            jwt_authorities: [],
            refresh_hint: "300",
            sequence_number: "2",
            trust_domain: bundle.trustDomain,
            x509_authorities: bundle.rootPems.map((pem) => ({ asn1: derBase64(pem), tainted: false })),
        })),
        next_page_token: "",
    });
}

/** Go's shortest `%g` of a float, as Prometheus' text format prints gauge values (1.782835199e+09). */
function goFloat(value: number): string {
    return value.toExponential().replace(/e([+-])(\d)$/, "e$10$2");
}

/**
 * What `pilot-discovery request GET /metrics` prints in istiod's container, reduced to the CA
 * gauges and a neighbour: the expiry of the signing certificate and the root istiod has loaded.
 */
export function istiodMetricsText(signingPem: string, rootPem: string): string {
    const expiry = (pem: string) => Math.floor(new Date(new X509Certificate(pem).validTo).getTime() / 1000);
    return [
        "# HELP citadel_server_cert_chain_expiry_timestamp The unix timestamp, in seconds, when Istio generated cert chain will expire.",
        "# TYPE citadel_server_cert_chain_expiry_timestamp gauge",
        `citadel_server_cert_chain_expiry_timestamp ${goFloat(expiry(signingPem))}`,
        "# HELP citadel_server_root_cert_expiry_timestamp The unix timestamp, in seconds, when the root cert will expire.",
        "# TYPE citadel_server_root_cert_expiry_timestamp gauge",
        `citadel_server_root_cert_expiry_timestamp ${goFloat(expiry(rootPem))}`,
        "# HELP pilot_xds Number of endpoints connected to this pilot using XDS.",
        "# TYPE pilot_xds gauge",
        'pilot_xds{version="1.30.3"} 8',
        "",
    ].join("\n");
}
