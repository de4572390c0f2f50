import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, webcrypto } from "node:crypto";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** Key algorithms the tests exercise: what `@pulumi/tls` and cert-manager can produce. */
export type KeyKind = "ecdsa-p256" | "rsa-2048";

const signingAlgorithms: Record<KeyKind, webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams> = {
    "ecdsa-p256": { name: "ECDSA", namedCurve: "P-256" } as webcrypto.EcKeyImportParams,
    "rsa-2048": { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as webcrypto.RsaHashedImportParams,
};

export interface TestKeyPair {
    kind: KeyKind;
    privateKey: KeyObject;
    /** PKCS#8 PEM. */
    privateKeyPem: string;
    publicKeyPem: string;
}

export function generateTestKeyPair(kind: KeyKind): TestKeyPair {
    const { privateKey, publicKey } =
        kind === "ecdsa-p256"
            ? generateKeyPairSync("ec", { namedCurve: "P-256" })
            : generateKeyPairSync("rsa", { modulusLength: 2048 });
    return {
        kind,
        privateKey,
        privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
        publicKeyPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
    };
}

/** The key kind of a PEM private key (any encoding Node reads). */
export function keyKindOf(privateKeyPem: string): KeyKind {
    return createPrivateKey(privateKeyPem).asymmetricKeyType === "ec" ? "ecdsa-p256" : "rsa-2048";
}

async function importPair(privateKeyPem: string, kind: KeyKind): Promise<webcrypto.CryptoKeyPair> {
    const algorithm = signingAlgorithms[kind];
    const privateDer = createPrivateKey(privateKeyPem).export({ format: "der", type: "pkcs8" });
    const publicDer = createPublicKey(privateKeyPem).export({ format: "der", type: "spki" });
    const privateKey = await webcrypto.subtle.importKey("pkcs8", privateDer, algorithm, true, ["sign"]);
    const publicKey = await webcrypto.subtle.importKey("spki", publicDer, algorithm, true, ["verify"]);
    return { privateKey, publicKey } as webcrypto.CryptoKeyPair;
}

export interface CertificateSpec {
    /** Distinguished name, e.g. `CN=foo.com root,O=example`. */
    subject: string;
    /** Key of the certificate's subject (PEM). */
    subjectKeyPem: string;
    /** Issuer's certificate and key; omitted for a self-signed certificate. */
    issuer?: { certificatePem: string; privateKeyPem: string };
    isCa: boolean;
    /** Path length constraint for a CA. */
    pathLength?: number;
    validityHours: number;
    /** URI SANs, e.g. SPIFFE IDs. */
    uris?: string[];
    dnsNames?: string[];
}

/** Issues a real X.509 certificate, so tests parse and verify what production code would see. */
export async function issueCertificate(spec: CertificateSpec): Promise<string> {
    const subjectKind = keyKindOf(spec.subjectKeyPem);
    const subjectKeys = await importPair(spec.subjectKeyPem, subjectKind);
    const issuerKeyPem = spec.issuer?.privateKeyPem ?? spec.subjectKeyPem;
    const issuerKind = keyKindOf(issuerKeyPem);
    const issuerKeys = await importPair(issuerKeyPem, issuerKind);
    const issuerName = spec.issuer ? new x509.X509Certificate(spec.issuer.certificatePem).subject : spec.subject;
    const notBefore = new Date(Date.now() - 60_000);
    const extensions: x509.Extension[] = [
        new x509.BasicConstraintsExtension(spec.isCa, spec.isCa ? spec.pathLength : undefined, true),
        new x509.KeyUsagesExtension(
            spec.isCa
                ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature
                : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
            true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(subjectKeys.publicKey),
    ];
    const altNames: x509.JsonGeneralName[] = [
        ...(spec.uris ?? []).map((value) => ({ type: "url" as const, value })),
        ...(spec.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ];
    if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames));
    const certificate = await x509.X509CertificateGenerator.create({
        serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(12))).toString("hex").replace(/^[89a-f]/, "1"),
        subject: spec.subject,
        issuer: issuerName,
        notBefore,
        notAfter: new Date(notBefore.getTime() + spec.validityHours * 3600_000),
        publicKey: subjectKeys.publicKey,
        signingKey: issuerKeys.privateKey,
        signingAlgorithm: signingAlgorithms[issuerKind],
        extensions,
    });
    return certificate.toString("pem");
}

/** A root CA and its key, for tests that need a domain's root. */
export async function createTestRootCa(
    commonName: string,
    kind: KeyKind = "ecdsa-p256",
): Promise<{ certificatePem: string; privateKeyPem: string }> {
    const key = generateTestKeyPair(kind);
    const certificatePem = await issueCertificate({
        subject: `CN=${commonName}`,
        subjectKeyPem: key.privateKeyPem,
        isCa: true,
        validityHours: 24 * 365,
    });
    return { certificatePem, privateKeyPem: key.privateKeyPem };
}
