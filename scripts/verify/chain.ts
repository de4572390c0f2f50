import { X509Certificate } from "node:crypto";
import { describeCertificate, parseSpiffeId, sameCertificate, uriSans } from "./spiffe";

/** The outcome of a certificate check: problems make it fail, evidence says what was seen. */
export interface CertificateVerdict {
    ok: boolean;
    problems: string[];
    evidence: string[];
}

function signedBy(child: X509Certificate, issuer: X509Certificate): boolean {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
}

function validAt(certificate: X509Certificate, now: Date): boolean {
    return new Date(certificate.validFrom) <= now && now <= new Date(certificate.validTo);
}

export interface SvidChainInput {
    /** Chain as the proxy serves it: leaf first, then intermediates (maybe the root last). */
    chain: X509Certificate[];
    /** The SPIFFE ID the leaf must carry, e.g. `spiffe://foo.com/ns/sleep/sa/sleep`. */
    expectedId: string;
    /** The domain's roots from the stack outputs (its SPIFFE bundle). */
    roots: X509Certificate[];
    now?: Date;
}

/**
 * Checks a proxy's SVID chain the way the seed reads it with openssl, and what it implies:
 * - the leaf carries exactly the expected SPIFFE ID as its only URI SAN and is not a CA;
 * - the next certificate is SPIRE's intermediate CA: a CA whose URI SAN is the trust domain's own
 *   ID (`spiffe://<td>`). istiod's plugged `cacerts` CA chains to the same root but carries no
 *   such SAN, so this is what tells a SPIRE identity from istio-agent's silent fallback to istiod;
 * - every certificate is signed by the next, all are within their validity;
 * - the chain ends at, or is signed by, one of the domain's roots: exactly that root, not merely
 *   some CA.
 */
export function checkSvidChain(input: SvidChainInput): CertificateVerdict {
    const now = input.now ?? new Date();
    const problems: string[] = [];
    const evidence: string[] = [];
    const { chain, roots, expectedId } = input;
    const expected = parseSpiffeId(expectedId);
    if (!expected) return { ok: false, problems: [`expected ID ${expectedId} is not a SPIFFE ID`], evidence };
    if (chain.length === 0) return { ok: false, problems: ["no certificate chain"], evidence };
    if (roots.length === 0) return { ok: false, problems: ["no root for the trust domain in the stack outputs"], evidence };

    const [leaf, ...rest] = chain;
    const leafUris = uriSans(leaf);
    evidence.push(`leaf URI SAN ${leafUris.join(", ") || "(none)"}`);
    if (leafUris.length !== 1 || leafUris[0] !== expectedId) {
        problems.push(`leaf URI SANs ${JSON.stringify(leafUris)}, expected exactly ${expectedId}`);
    }
    if (leaf.ca) problems.push("leaf is a CA certificate");

    // A root served at the end of the chain is checked as the anchor, not as an intermediate.
    const last = rest.at(-1);
    const servedRoot = last && roots.find((root) => sameCertificate(root, last));
    const intermediates = servedRoot ? rest.slice(0, -1) : rest;
    if (intermediates.length === 0) {
        problems.push("no intermediate between leaf and root: not issued by SPIRE's CA");
    } else {
        const spireCa = intermediates[0];
        const caUris = uriSans(spireCa);
        evidence.push(`issuer ${describeCertificate(spireCa)} URI SAN ${caUris.join(", ") || "(none)"}`);
        if (!spireCa.ca) problems.push("issuer of the leaf is not a CA");
        const trustDomainId = `spiffe://${expected.trustDomain}`;
        if (!caUris.includes(trustDomainId)) {
            problems.push(`issuer lacks URI SAN ${trustDomainId}: not SPIRE's intermediate (istiod fallback?)`);
        }
    }

    const links = [leaf, ...intermediates];
    for (let index = 0; index + 1 < links.length; index++) {
        if (!signedBy(links[index], links[index + 1])) {
            problems.push(`certificate ${index} is not signed by certificate ${index + 1}`);
        }
    }
    for (const [index, certificate] of chain.entries()) {
        if (!validAt(certificate, now)) problems.push(`certificate ${index} not valid now (${certificate.validFrom} - ${certificate.validTo})`);
    }

    const top = links.at(-1)!;
    const anchor = servedRoot ?? roots.find((root) => signedBy(top, root));
    if (!anchor) {
        problems.push(`chain does not end at the domain's root (top issuer: ${top.issuer.replace(/\n/g, ", ")})`);
    } else {
        if (servedRoot && !signedBy(top, servedRoot)) problems.push("served root did not sign the top intermediate");
        evidence.push(`anchored at root ${describeCertificate(anchor)}`);
    }
    evidence.push(`chain length ${chain.length}${servedRoot ? " (root included)" : ""}`);
    return { ok: problems.length === 0, problems, evidence };
}

/** Which of `roots` (by name) appear in `trusted`: the data-plane view of federation. */
export function missingRoots(trusted: X509Certificate[], roots: { name: string; certificates: X509Certificate[] }[]): string[] {
    return roots
        .filter(({ certificates }) => !certificates.some((root) => trusted.some((candidate) => sameCertificate(candidate, root))))
        .map(({ name }) => name);
}

/** Lifetime of a certificate in seconds (notAfter - notBefore). */
export function lifetimeSeconds(certificate: X509Certificate): number {
    return (new Date(certificate.validTo).getTime() - new Date(certificate.validFrom).getTime()) / 1000;
}
