/**
 * check-cacerts: `istio-system/cacerts`, the intermediate CA istiod signs with, was issued by
 * cert-manager and chains to the domain's root (`openssl verify`, not the program's code).
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
    const file = path.join(domain.rootDir, "cacerts.crt");
    fs.writeFileSync(file, Buffer.from(secret.data["tls.crt"], "base64"));
    const { stdout } = await run("openssl", ["verify", "-CAfile", path.join(domain.rootDir, "root.crt"), file]);
    check(stdout.includes(": OK"), `${domain.name}: cacerts does not chain to the root: ${stdout}`);
    return new X509Certificate(fs.readFileSync(file));
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
        evidence.push(`${domain.name}: cacerts issued ${certificate.validFrom}, CA, chains to ${domain.trustDomain}'s root (openssl verify OK)`);
    }
}
