import { JsonWebKey, X509Certificate } from "node:crypto";

/**
 * SPIFFE trust bundles (SPIFFE Trust Domain and Bundle spec, "SPIFFE Bundle Format"): a JWK set
 * whose `x509-svid` keys each carry one X.509 authority in `x5c`, plus the SPIFFE parameters
 * `spiffe_refresh_hint` and `spiffe_sequence`. This is what a ClusterFederatedTrustDomain's
 * `trustDomainBundle` holds and what a SPIRE bundle endpoint serves.
 */

/** Seconds between bundle refreshes a peer should use; SPIRE's own bundle endpoint default is 5m. */
export const defaultRefreshHintSeconds = 300;

export interface SpiffeBundleOptions {
    /** `spiffe_refresh_hint` in seconds. */
    refreshHintSeconds?: number;
    /** `spiffe_sequence`; omitted when undefined (the spec makes it optional). */
    sequence?: number;
}

/** One `x509-svid` entry of a bundle. */
export interface X509SvidKey {
    use: "x509-svid";
    kty: string;
    crv?: string;
    x?: string;
    y?: string;
    n?: string;
    e?: string;
    x5c: [string];
}

export interface SpiffeBundle {
    keys: X509SvidKey[];
    spiffe_refresh_hint?: number;
    spiffe_sequence?: number;
}

export class SpiffeBundleError extends Error {}

/** JWK public parameters per key type, in the order the bundle writes them. */
const publicParameters: Record<string, (keyof JsonWebKey)[]> = {
    EC: ["crv", "x", "y"],
    RSA: ["n", "e"],
    OKP: ["crv", "x"],
};

const pemBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of one or more PEM texts, each possibly holding several blocks. */
export function certificatesOfPem(pems: string | string[]): X509Certificate[] {
    const blocks = (Array.isArray(pems) ? pems : [pems]).flatMap((text) => text.match(pemBlock) ?? []);
    return blocks.map((block) => new X509Certificate(block));
}

/** The public JWK parameters of a certificate's key, in a fixed order (so output never churns). */
function publicJwkOf(certificate: X509Certificate): Pick<X509SvidKey, "kty" | "crv" | "x" | "y" | "n" | "e"> {
    const jwk = certificate.publicKey.export({ format: "jwk" });
    const kty = jwk.kty;
    if (kty === undefined || !publicParameters[kty]) {
        throw new SpiffeBundleError(`certificate ${certificate.subject}: unsupported key type ${String(kty)}`);
    }
    const entry: Record<string, string> = { kty };
    for (const parameter of publicParameters[kty]) {
        const value = jwk[parameter];
        if (typeof value !== "string") {
            throw new SpiffeBundleError(`certificate ${certificate.subject}: JWK lacks ${parameter}`);
        }
        entry[parameter] = value;
    }
    return entry as Pick<X509SvidKey, "kty">;
}

/**
 * The SPIFFE bundle of a trust domain whose X.509 authorities are the given root certificates
 * (PEM; one text may hold several). Output is deterministic: the same roots give the same text,
 * so a stack that recomputes it shows no diff. Duplicate roots appear once.
 */
export function spiffeBundleJson(rootPems: string | string[], options: SpiffeBundleOptions = {}): string {
    const certificates = certificatesOfPem(rootPems);
    if (certificates.length === 0) {
        throw new SpiffeBundleError("a SPIFFE bundle needs at least one root certificate");
    }
    const seen = new Set<string>();
    const keys: X509SvidKey[] = [];
    for (const certificate of certificates) {
        if (!certificate.ca) {
            // Peers verify SVID chains up to these entries; a leaf here would be a silent misconfiguration.
            throw new SpiffeBundleError(`certificate ${certificate.subject} is not a CA certificate`);
        }
        const der = certificate.raw.toString("base64");
        if (seen.has(der)) continue;
        seen.add(der);
        keys.push({ use: "x509-svid", ...publicJwkOf(certificate), x5c: [der] });
    }
    const bundle: SpiffeBundle = {
        keys,
        spiffe_refresh_hint: options.refreshHintSeconds ?? defaultRefreshHintSeconds,
        ...(options.sequence === undefined ? {} : { spiffe_sequence: options.sequence }),
    };
    return JSON.stringify(bundle);
}

/** A bundle read back: its X.509 authorities and SPIFFE parameters. */
export interface ParsedSpiffeBundle {
    x509Authorities: X509Certificate[];
    refreshHintSeconds?: number;
    sequence?: number;
    /** Entries of other uses (e.g. `jwt-svid`), counted but not interpreted. */
    otherKeys: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

function optionalInteger(bundle: Record<string, unknown>, field: string): number | undefined {
    const value = bundle[field];
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
        throw new SpiffeBundleError(`${field} must be a non-negative integer, got ${JSON.stringify(value)}`);
    }
    return value;
}

/**
 * Parses a SPIFFE bundle, checking what a SPIFFE implementation relies on: `keys` is a list, each
 * `x509-svid` entry has exactly one certificate in `x5c`, and its JWK parameters are that
 * certificate's public key.
 */
export function parseSpiffeBundle(text: string): ParsedSpiffeBundle {
    let document: unknown;
    try {
        document = JSON.parse(text);
    } catch (error) {
        throw new SpiffeBundleError(`not JSON: ${(error as Error).message}`);
    }
    if (!isRecord(document) || !Array.isArray(document.keys)) {
        throw new SpiffeBundleError("a SPIFFE bundle is a JSON object with a keys list");
    }
    const x509Authorities: X509Certificate[] = [];
    let otherKeys = 0;
    document.keys.forEach((key: unknown, index: number) => {
        if (!isRecord(key) || typeof key.use !== "string") {
            throw new SpiffeBundleError(`keys[${index}] must be an object with a use`);
        }
        if (key.use !== "x509-svid") {
            otherKeys++;
            return;
        }
        const x5c = key.x5c;
        if (!Array.isArray(x5c) || x5c.length !== 1 || typeof x5c[0] !== "string") {
            throw new SpiffeBundleError(`keys[${index}].x5c must hold exactly one certificate`);
        }
        const certificate = new X509Certificate(Buffer.from(x5c[0], "base64"));
        const expected = publicJwkOf(certificate) as Record<string, string>;
        for (const [parameter, value] of Object.entries(expected)) {
            if (key[parameter] !== value) {
                throw new SpiffeBundleError(`keys[${index}].${parameter} does not match the certificate's public key`);
            }
        }
        x509Authorities.push(certificate);
    });
    return {
        x509Authorities,
        refreshHintSeconds: optionalInteger(document, "spiffe_refresh_hint"),
        sequence: optionalInteger(document, "spiffe_sequence"),
        otherKeys,
    };
}
