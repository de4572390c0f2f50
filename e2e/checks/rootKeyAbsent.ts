/**
 * check-root-key-absent: no Secret of any namespace holds a private key of a domain's root, in
 * any key of its data: the root signs the intermediates outside the cluster, and only those enter
 * it. Judged by comparing every PEM private key found in the cluster's Secrets with the roots'
 * public keys, not by the names the program gives its Secrets.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Domain } from "../clusters/domains";
import { kubectlJson, List, Meta } from "../runner/kubectl";
import { check } from "../runner/phases";

const privateKeyPem = /-----BEGIN (?:EC |RSA )?PRIVATE KEY-----[\s\S]+?-----END (?:EC |RSA )?PRIVATE KEY-----/g;

/**
 * Every private key in the cluster's Secrets, with where it was found.
 * @param domain the cluster to read
 */
async function keysInSecrets(domain: Domain): Promise<{ where: string; pem: string }[]> {
    const secrets = await kubectlJson<List<Meta & { data?: Record<string, string> }>>(domain, "get", "secrets", "--all-namespaces");
    const found: { where: string; pem: string }[] = [];
    for (const secret of secrets.items) {
        for (const [key, value] of Object.entries(secret.data ?? {})) {
            for (const pem of Buffer.from(value, "base64").toString("utf8").match(privateKeyPem) ?? []) {
                found.push({ where: `${secret.metadata.namespace}/${secret.metadata.name}[${key}]`, pem });
            }
        }
    }
    return found;
}

/**
 * No cluster of the mesh holds any mesh domain's root private key.
 * @param mesh the domains deployed together (each one's root, from the root-cas phase)
 * @param evidence the phase's: how many keys were compared per cluster
 */
export async function checkRootKeyAbsent(mesh: Domain[], evidence: string[]): Promise<void> {
    const roots = mesh.map((domain) => ({
        trustDomain: domain.trustDomain,
        publicKey: new X509Certificate(fs.readFileSync(path.join(domain.rootDir, "root.crt"))).publicKey,
    }));
    for (const domain of mesh) {
        const keys = await keysInSecrets(domain);
        check(keys.length > 0, `${domain.name}: no private key found in any Secret; the check would prove nothing`);
        for (const key of keys) {
            const publicKey = createPublicKey(createPrivateKey(key.pem));
            const root = roots.find((candidate) => candidate.publicKey.equals(publicKey));
            check(root === undefined, `${domain.name}: ${key.where} holds the private key of ${root?.trustDomain}'s root`);
        }
        evidence.push(`${domain.name}: ${keys.length} private keys in Secrets, none a root's`);
    }
}
