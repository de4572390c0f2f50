/**
 * check-cacerts: `istio-system/cacerts`, the CA istiod signs with, was issued by cert-manager
 * under the domain's istiod intermediate and chains through it to the domain's root (`openssl
 * verify`, not the program's code); the root itself is never the issuer, its key being outside
 * the cluster.
 */
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Domain } from "../clusters/domains";
import { kubectlJson } from "../runner/kubectl";
import { check } from "../runner/phases";
import { run } from "../runner/processes";

/**
 * The domain's `cacerts` certificate, verified against its root.
 * @param domain the cluster and its root
 * @throws when it does not chain to the root
 */
export async function cacerts(domain: Domain): Promise<X509Certificate> {
    const secret = await kubectlJson<{ data: Record<string, string> }>(domain, "-n", "istio-system", "get", "secret", "cacerts");
    // tls.crt is istiod's CA certificate followed by the chain cert-manager returned with it.
    const chainFile = path.join(domain.rootDir, "cacerts-chain.crt");
    const chain = Buffer.from(secret.data["tls.crt"], "base64").toString("utf8");
    fs.writeFileSync(chainFile, chain);
    const pems = chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    check(pems.length >= 2, `${domain.name}: cacerts tls.crt holds ${pems.length} certificate(s), want istiod's CA and the intermediate that signed it`);
    const leaf = pems[0] ?? "";
    const file = path.join(domain.rootDir, "cacerts.crt");
    fs.writeFileSync(file, `${leaf}\n`);
    const root = new X509Certificate(fs.readFileSync(path.join(domain.rootDir, "root.crt")));
    const certificate = new X509Certificate(leaf);
    check(!certificate.checkIssued(root), `${domain.name}: cacerts was signed by the root itself, not by an intermediate`);
    const { stdout } = await run("openssl", ["verify", "-CAfile", path.join(domain.rootDir, "root.crt"), "-untrusted", chainFile, file]);
    check(stdout.includes(": OK"), `${domain.name}: cacerts does not chain to the root: ${stdout}`);
    return certificate;
}

/**
 * Each domain's `cacerts` is a CA certificate chaining to its root.
 * @param domains the clusters to read
 * @param evidence the phase's
 */
export async function checkCacerts(domains: Domain[], evidence: string[]): Promise<void> {
    for (const domain of domains) {
        const certificate = await cacerts(domain);
        check(certificate.ca, `${domain.name}: cacerts is not a CA certificate`);
        evidence.push(`${domain.name}: cacerts issued ${certificate.validFrom} by ${certificate.issuer.replace(/\n/g, ", ")}, CA, chains to ${domain.trustDomain}'s root (openssl verify OK)`);
    }
}
