import { X509Certificate } from "node:crypto";

/** A parsed SPIFFE ID. */
export interface SpiffeId {
    trustDomain: string;
    /** Path with its leading slash; empty for a trust domain's own ID. */
    path: string;
}

const trustDomainPattern = /^[a-z0-9._-]+$/;
const segmentPattern = /^[A-Za-z0-9._-]+$/;

/**
 * Parses a SPIFFE ID by the SPIFFE-ID spec: scheme `spiffe`, a lowercase trust domain without
 * port or user info, path segments of letters, digits, `.`, `-`, `_` (no `.`/`..` segments),
 * no query or fragment. Returns undefined for anything else.
 */
export function parseSpiffeId(text: string): SpiffeId | undefined {
    const match = /^spiffe:\/\/([^/?#]+)((?:\/[^/?#]*)*)$/.exec(text);
    if (!match) return undefined;
    const [, trustDomain, path] = match;
    if (!trustDomainPattern.test(trustDomain)) return undefined;
    if (path !== "") {
        const segments = path.slice(1).split("/");
        if (segments.some((segment) => !segmentPattern.test(segment) || segment === "." || segment === "..")) return undefined;
    }
    return { trustDomain, path };
}

/** The workload fields of `spiffe://<td>/ns/<namespace>/sa/<account>`, the form SPIRE's ClusterSPIFFEID template gives. */
export function parseWorkloadSpiffeId(text: string): { trustDomain: string; namespace: string; serviceAccount: string } | undefined {
    const id = parseSpiffeId(text);
    const match = id && /^\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(id.path);
    if (!id || !match) return undefined;
    return { trustDomain: id.trustDomain, namespace: match[1], serviceAccount: match[2] };
}

/**
 * URI SANs of a certificate. Node renders `subjectAltName` as `URI:a, DNS:b`, quoting (JSON-style)
 * any value that contains a separator, so quoted entries are decoded rather than split.
 */
export function uriSans(certificate: X509Certificate): string[] {
    const text = certificate.subjectAltName;
    if (!text) return [];
    const entries: string[] = [];
    let rest = text;
    while (rest.length > 0) {
        const entry = /^([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/.exec(rest);
        if (!entry) break;
        const value = entry[2].startsWith('"') ? (JSON.parse(entry[2]) as string) : entry[2];
        if (entry[1] === "URI") entries.push(value);
        rest = rest.slice(entry[0].length);
    }
    return entries;
}

/** Every certificate in a PEM text, in order. */
export function certificatesFromPem(pem: string): X509Certificate[] {
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    return blocks.map((block) => new X509Certificate(block));
}

interface JwkEntry {
    use?: string;
    x5c?: string[];
}

/**
 * The X.509 authorities of a SPIFFE bundle (JWK set): the first `x5c` certificate of every key
 * with `use: "x509-svid"`. Accepts the bundle as JSON text or as an object.
 */
export function x509AuthoritiesOfBundle(bundle: string | object): X509Certificate[] {
    const document = (typeof bundle === "string" ? JSON.parse(bundle) : bundle) as { keys?: JwkEntry[] };
    if (!Array.isArray(document.keys)) throw new Error("not a SPIFFE bundle: no keys[]");
    return document.keys
        .filter((key) => key.use === "x509-svid" && Array.isArray(key.x5c) && key.x5c.length > 0)
        .map((key) => new X509Certificate(Buffer.from(key.x5c![0], "base64")));
}

/** Short, stable name of a certificate for evidence lines. */
export function describeCertificate(certificate: X509Certificate): string {
    const subject = certificate.subject.replace(/\n/g, ", ") || "(empty subject)";
    return `${subject} [sha256 ${certificate.fingerprint256.replace(/:/g, "").slice(0, 16).toLowerCase()}]`;
}

export function sameCertificate(a: X509Certificate, b: X509Certificate): boolean {
    return a.raw.equals(b.raw);
}
