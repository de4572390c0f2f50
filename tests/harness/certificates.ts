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

/** The public half of a PEM key (private or SPKI public), as WebCrypto wants it for a certificate. */
async function importPublicKey(keyPem: string): Promise<webcrypto.CryptoKey> {
    const publicKey = createPublicKey(keyPem);
    const kind: KeyKind = publicKey.asymmetricKeyType === "ec" ? "ecdsa-p256" : "rsa-2048";
    return webcrypto.subtle.importKey("spki", publicKey.export({ format: "der", type: "spki" }), signingAlgorithms[kind], true, ["verify"]);
}

/** A PKCS#10 request for `subject` signed with `privateKeyPem`, as `tls.CertRequest` makes one. */
export async function createCertificateRequest(subject: string, privateKeyPem: string): Promise<string> {
    const kind = keyKindOf(privateKeyPem);
    const keys = await importPair(privateKeyPem, kind);
    const signingAlgorithm = kind === "ecdsa-p256" ? { name: "ECDSA", hash: "SHA-256" } : signingAlgorithms[kind];
    const request = await x509.Pkcs10CertificateRequestGenerator.create({ name: subject, keys, signingAlgorithm });
    return request.toString("pem");
}

/** Subject and public key (SPKI PEM) of a PKCS#10 request. */
export function certificateRequestSubject(requestPem: string): { subject: string; publicKeyPem: string } {
    const request = new x509.Pkcs10CertificateRequest(requestPem);
    return { subject: request.subject, publicKeyPem: request.publicKey.toString("pem") };
}

export interface CertificateSpec {
    /** Distinguished name, e.g. `CN=foo.com root,O=example`. */
    subject: string;
    /** Key of the certificate's subject (PEM): its private key, or only its public key (SPKI PEM). */
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
    const subjectPublicKey = await importPublicKey(spec.subjectKeyPem);
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
        await x509.SubjectKeyIdentifierExtension.create(subjectPublicKey),
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
        publicKey: subjectPublicKey,
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

/** A certificate's basic constraints, read with a parser independent of the code under test. */
export function basicConstraintsOf(certificatePem: string): { ca: boolean; pathLength?: number } | undefined {
    const extension = new x509.X509Certificate(certificatePem).getExtension(x509.BasicConstraintsExtension);
    return extension ? { ca: extension.ca, ...(extension.pathLength !== undefined ? { pathLength: extension.pathLength } : {}) } : undefined;
}
