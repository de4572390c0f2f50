/**
 * check-remote-secrets: each cluster's remote secret for a peer (what istiod reads the peer with)
 * names the peer's API server and authenticates there, allowed exactly the reads istiod needs
 * (the istiod chart's reader ClusterRole) and not the writes it must not have. Judged at the
 * peer's API server (`kubectl auth can-i`), not from the RBAC objects the program declares.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Domain, peersOf } from "../clusters/domains";
import { kubectl, kubectlJson, List, Meta } from "../runner/kubectl";
import { bin, work } from "../runner/paths";
import { check } from "../runner/phases";
import { run } from "../runner/processes";

export type RemoteSecrets = List<Meta & { data: Record<string, string> }>;

/** What the credential must be allowed (`list`) and refused (anything else) across all namespaces. */
const verbs = ["list pods", "list services", "list endpointslices.discovery.k8s.io", "list namespaces", "list nodes", "create pods", "delete namespaces"];

/**
 * The cluster's remote secrets (`istio/multiCluster=true` in istio-system), keyed inside by peer cluster name.
 * @param holder the cluster
 */
export async function remoteSecrets(holder: Domain): Promise<RemoteSecrets> {
    return kubectlJson<RemoteSecrets>(holder, "-n", "istio-system", "get", "secrets", "-l", "istio/multiCluster=true");
}

/**
 * `holder`'s remote secret for `peer` names the peer's API server and authenticates there with
 * exactly the reads istiod needs.
 * @param holder the cluster holding the secret
 * @param peer the cluster it must reach
 * @param evidence the phase's: each can-i answer, and how many services it lists
 */
export async function checkRemoteSecret(holder: Domain, peer: Domain, evidence: string[]): Promise<void> {
    const secrets = await remoteSecrets(holder);
    const secret = secrets.items.find((item) => item.data[peer.name] !== undefined);
    check(secret !== undefined, `${holder.name}: no remote secret with a kubeconfig for ${peer.name}`);
    const file = path.join(work, `remote-${holder.name}-${peer.name}.kubeconfig`);
    fs.writeFileSync(file, Buffer.from(secret.data[peer.name], "base64"), { mode: 0o600 });
    try {
        const server = (await kubectl(file, "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")).trim();
        check(server === `https://${peer.address}:6443`, `${holder.name}: remote secret for ${peer.name} names ${server}`);
        const answers: string[] = [];
        for (const verb of verbs) {
            const { stdout } = await run(bin("kube", "kubectl"), ["--kubeconfig", file, "auth", "can-i", ...verb.split(" "), "--all-namespaces"]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? "error" }));
            answers.push(`${verb}=${stdout.trim()}`);
            const want = verb.startsWith("list") ? "yes" : "no";
            check(stdout.trim() === want, `${holder.name}'s remote secret for ${peer.name}: can-i ${verb} is "${stdout.trim()}", want ${want}`);
        }
        const services = await kubectl(file, "get", "services", "--all-namespaces", "-o", "name");
        evidence.push(`${holder.name} -> ${peer.name} (${secret.metadata.name}): ${server} authenticates; ${answers.join(" ")}; lists ${services.trim().split("\n").length} services`);
    } finally {
        fs.rmSync(file, { force: true });
    }
}

/**
 * Every cluster of the mesh holds a working remote secret for every peer.
 * @param mesh the domains deployed together
 * @param evidence the phase's
 */
export async function checkRemoteSecrets(mesh: Domain[], evidence: string[]): Promise<void> {
    for (const holder of mesh) {
        for (const peer of peersOf(mesh, holder)) await checkRemoteSecret(holder, peer, evidence);
    }
}
