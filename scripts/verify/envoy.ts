import { X509Certificate } from "node:crypto";
import { certificatesFromPem } from "./spiffe";

/**
 * Command that prints a proxy's active SDS secrets, run in the `istio-proxy` container.
 * `pilot-agent request` talks to Envoy's admin port inside the proxy image, so it needs nothing
 * from the application image (the curl image has no openssl, and the admin port is not exposed).
 * Envoy's `resource` filter keeps the dump to the secrets.
 */
export const secretsDumpCommand = ["pilot-agent", "request", "GET", "config_dump?resource=dynamic_active_secrets"];

/** Name of the SDS secret holding the workload certificate and of the one holding trusted roots. */
export const workloadSecretName = "default";
export const rootSecretName = "ROOTCA";

export interface ProxySecrets {
    /** The workload's certificate chain (leaf first), when the proxy holds one. */
    chain?: X509Certificate[];
    /** Every CA certificate under the ROOTCA secret (trusted_ca or SPIFFE validator bundles). */
    trusted?: X509Certificate[];
}

type Json = unknown;

function get(record: Record<string, Json>, snake: string, camel: string): Json {
    return record[snake] ?? record[camel];
}

/** Certificates in an Envoy DataSource (`inline_bytes` base64 of PEM, or `inline_string` PEM). */
function certificatesOfDataSources(node: Json, found: X509Certificate[]): void {
    if (Array.isArray(node)) {
        for (const item of node) certificatesOfDataSources(item, found);
        return;
    }
    if (node === null || typeof node !== "object") return;
    const record = node as Record<string, Json>;
    const bytes = get(record, "inline_bytes", "inlineBytes");
    const text = get(record, "inline_string", "inlineString");
    if (typeof bytes === "string") found.push(...certificatesFromPem(Buffer.from(bytes, "base64").toString("utf8")));
    if (typeof text === "string") found.push(...certificatesFromPem(text));
    for (const value of Object.values(record)) certificatesOfDataSources(value, found);
}

/** Every secret object (`{name, tls_certificate | validation_context ...}`) anywhere in the dump. */
function secretsIn(node: Json, found: Map<string, Record<string, Json>>): void {
    if (Array.isArray(node)) {
        for (const item of node) secretsIn(item, found);
        return;
    }
    if (node === null || typeof node !== "object") return;
    const record = node as Record<string, Json>;
    const secret = record.secret;
    if (typeof record.name === "string" && secret !== null && typeof secret === "object" && !found.has(record.name)) {
        found.set(record.name, secret as Record<string, Json>);
    }
    for (const value of Object.values(record)) secretsIn(value, found);
}

/**
 * The workload chain and trusted roots from Envoy's config dump. Accepts Envoy's own JSON
 * (snake_case, as `pilot-agent request` prints it) and the camelCase form istioctl prints, whole
 * or filtered with `?resource=dynamic_active_secrets`.
 */
export function proxySecretsFromConfigDump(text: string): ProxySecrets {
    const document = JSON.parse(text) as Json;
    const secrets = new Map<string, Record<string, Json>>();
    secretsIn(document, secrets);
    const result: ProxySecrets = {};
    const workload = secrets.get(workloadSecretName);
    if (workload) {
        const tls = get(workload, "tls_certificate", "tlsCertificate");
        const chain: X509Certificate[] = [];
        if (tls && typeof tls === "object") certificatesOfDataSources(get(tls as Record<string, Json>, "certificate_chain", "certificateChain"), chain);
        if (chain.length > 0) result.chain = chain;
    }
    const roots = secrets.get(rootSecretName);
    if (roots) {
        const trusted: X509Certificate[] = [];
        certificatesOfDataSources(roots, trusted);
        result.trusted = trusted;
    }
    return result;
}
