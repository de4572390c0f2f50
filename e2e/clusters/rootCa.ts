/**
 * One root CA per domain, made with openssl: the scenarios supply each domain's root in config
 * (the path that needs no tls provider, which cannot be built here; e2e/README.md).
 */
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { check } from "../runner/phases";
import { run } from "../runner/processes";
import { Domain } from "./domains";

/**
 * Writes `root.crt` and `root.key` (ECDSA P-256, `CA:TRUE`) into the domain's `rootDir`.
 * @param domain the domain whose root it is: the subject names its trust domain
 * @param evidence the root-cas phase's: the subject and fingerprint
 */
export async function makeRootCa(domain: Domain, evidence: string[]): Promise<void> {
    fs.mkdirSync(domain.rootDir, { recursive: true });
    await run("openssl", [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "3650",
        "-keyout", path.join(domain.rootDir, "root.key"), "-out", path.join(domain.rootDir, "root.crt"),
        "-subj", `/O=multi-mesh/CN=${domain.trustDomain} e2e root CA`,
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    const certificate = new X509Certificate(fs.readFileSync(path.join(domain.rootDir, "root.crt")));
    check(certificate.ca, `${domain.name}: openssl did not make a CA certificate`);
    evidence.push(`${domain.trustDomain}: ${certificate.subject.replace(/\n/g, ", ")}, sha256 ${certificate.fingerprint256}`);
}

/**
 * The domain's root certificate as this run made it.
 * @param domain a domain whose root-cas phase passed
 */
export const rootCertificate = (domain: Domain): X509Certificate => new X509Certificate(fs.readFileSync(path.join(domain.rootDir, "root.crt")));
