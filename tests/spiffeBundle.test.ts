import { createPublicKey, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseSpiffeBundle, SpiffeBundleError, spiffeBundleJson } from "../lib/spiffeBundle";
import { createTestRootCa, generateTestKeyPair, issueCertificate, KeyKind } from "./harness/certificates";

/** DER bytes of a single-certificate PEM, decoded by hand (independent of node:crypto's parser). */
function derOfPem(pem: string): Buffer {
    const body = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
    return Buffer.from(body, "base64");
}

/** The public JWK of a private key, derived from the key, not from any certificate. */
function publicJwkOfKey(privateKeyPem: string): Record<string, unknown> {
    return createPublicKey(privateKeyPem).export({ format: "jwk" }) as Record<string, unknown>;
}

const base64Std = /^[A-Za-z0-9+/]+={0,2}$/;
const base64Url = /^[A-Za-z0-9_-]+$/;

describe.each<[KeyKind, string[]]>([
    ["ecdsa-p256", ["use", "kty", "crv", "x", "y", "x5c"]],
    ["rsa-2048", ["use", "kty", "n", "e", "x5c"]],
])("bundle of a real %s root", (kind, fieldOrder) => {
    it("holds one x509-svid key whose JWK is the root's public key and whose x5c is the root's DER", async () => {
        const root = await createTestRootCa(`foo.com ${kind} root`, kind);
        const bundle = JSON.parse(spiffeBundleJson(root.certificatePem));

        expect(bundle.keys).toHaveLength(1);
        const [key] = bundle.keys;
        expect(key.use).toBe("x509-svid");
        const jwk = publicJwkOfKey(root.privateKeyPem);
        if (kind === "ecdsa-p256") {
            expect(key).toMatchObject({ kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y });
            expect(key.x).toMatch(base64Url);
            expect(key.y).toMatch(base64Url);
        } else {
            expect(key).toMatchObject({ kty: "RSA", n: jwk.n, e: jwk.e });
            expect(key.e).toBe("AQAB");
        }
        // No private parameter ever leaks into a bundle.
        expect(key.d).toBeUndefined();
        expect(key.x5c).toHaveLength(1);
        expect(key.x5c[0]).toMatch(base64Std);
        expect(Buffer.from(key.x5c[0], "base64").equals(derOfPem(root.certificatePem))).toBe(true);
        // The key's own fields come in a fixed order, so the JSON text never churns a diff.
        expect(Object.keys(key)).toEqual(fieldOrder);
    });

    it("parses back to the same certificate", async () => {
        const root = await createTestRootCa(`bar.com ${kind} root`, kind);
        const parsed = parseSpiffeBundle(spiffeBundleJson(root.certificatePem));
        expect(parsed.x509Authorities).toHaveLength(1);
        expect(parsed.x509Authorities[0].raw.equals(derOfPem(root.certificatePem))).toBe(true);
        expect(parsed.otherKeys).toBe(0);
    });
});

describe("bundle parameters and determinism", () => {
    it("carries a refresh hint in seconds (default 5 minutes) and a sequence only when given", async () => {
        const root = await createTestRootCa("foo.com root");
        const plain = JSON.parse(spiffeBundleJson(root.certificatePem));
        expect(plain.spiffe_refresh_hint).toBe(300);
        expect("spiffe_sequence" in plain).toBe(false);

        const tuned = parseSpiffeBundle(spiffeBundleJson(root.certificatePem, { refreshHintSeconds: 60, sequence: 7 }));
        expect(tuned.refreshHintSeconds).toBe(60);
        expect(tuned.sequence).toBe(7);
    });

    it("is the same text for the same roots", async () => {
        const root = await createTestRootCa("foo.com root");
        expect(spiffeBundleJson(root.certificatePem)).toBe(spiffeBundleJson(`${root.certificatePem}\n`));
    });

    it("takes several roots, in one PEM text or as a list, once each and in order", async () => {
        const first = await createTestRootCa("old root", "rsa-2048");
        const second = await createTestRootCa("new root", "ecdsa-p256");
        const fromText = parseSpiffeBundle(spiffeBundleJson(`${first.certificatePem}\n${second.certificatePem}`));
        const fromList = parseSpiffeBundle(spiffeBundleJson([first.certificatePem, second.certificatePem, first.certificatePem]));
        for (const parsed of [fromText, fromList]) {
            expect(parsed.x509Authorities.map((c) => c.raw.toString("hex"))).toEqual([
                derOfPem(first.certificatePem).toString("hex"),
                derOfPem(second.certificatePem).toString("hex"),
            ]);
        }
    });

    it("refuses a leaf certificate and an empty input", async () => {
        const key = generateTestKeyPair("ecdsa-p256");
        const leaf = await issueCertificate({ subject: "CN=workload", subjectKeyPem: key.privateKeyPem, isCa: false, validityHours: 1 });
        expect(() => spiffeBundleJson(leaf)).toThrow(SpiffeBundleError);
        expect(() => spiffeBundleJson("no certificate here")).toThrow(/at least one root/);
    });
});

describe("parseSpiffeBundle", () => {
    it("reads a bundle in SPIRE's shape, with a JWT key beside the X.509 authority", async () => {
        const root = await createTestRootCa("foo.com root");
        const der = derOfPem(root.certificatePem).toString("base64");
        const jwt = publicJwkOfKey(generateTestKeyPair("ecdsa-p256").privateKeyPem);
        const text = JSON.stringify({
            keys: [
                { use: "x509-svid", ...publicJwkOfKey(root.privateKeyPem), x5c: [der] },
                { use: "jwt-svid", kid: "abc", ...jwt },
            ],
            spiffe_sequence: 3,
            spiffe_refresh_hint: 300,
        });
        const parsed = parseSpiffeBundle(text);
        expect(parsed.x509Authorities).toHaveLength(1);
        expect(parsed.x509Authorities[0].subject).toBe(new X509Certificate(root.certificatePem).subject);
        expect(parsed.otherKeys).toBe(1);
        expect(parsed.sequence).toBe(3);
    });

    it("rejects a key whose JWK is not the certificate's, and malformed bundles", async () => {
        const root = await createTestRootCa("foo.com root");
        const other = await createTestRootCa("other root");
        const bundle = JSON.parse(spiffeBundleJson(root.certificatePem));
        const swapped = { ...bundle, keys: [{ ...bundle.keys[0], x: publicJwkOfKey(other.privateKeyPem).x }] };
        expect(() => parseSpiffeBundle(JSON.stringify(swapped))).toThrow(/does not match/);

        const twoCerts = { ...bundle, keys: [{ ...bundle.keys[0], x5c: [bundle.keys[0].x5c[0], bundle.keys[0].x5c[0]] }] };
        expect(() => parseSpiffeBundle(JSON.stringify(twoCerts))).toThrow(/exactly one/);
        expect(() => parseSpiffeBundle("{}")).toThrow(SpiffeBundleError);
        expect(() => parseSpiffeBundle("not json")).toThrow(SpiffeBundleError);
        expect(() => parseSpiffeBundle(JSON.stringify({ ...bundle, spiffe_refresh_hint: "5m" }))).toThrow(/refresh_hint/);
    });
});
