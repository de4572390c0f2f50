/**
 * check-remote-secrets: each cluster's remote secret for a peer (what istiod reads the peer with)
 * names the peer's API server and authenticates there as the reader the peer issued to this
 * cluster's trust domain alone, allowed the reads istiod needs and refused every Secret and every
 * write. Judged at the peer's API server (`kubectl auth whoami`, `kubectl auth can-i`), not from
 * the RBAC objects the program declares.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Domain, peersOf } from "../clusters/domains";
import { kubectl, kubectlJson, List, Meta } from "../runner/kubectl";
import { bin, work } from "../runner/paths";
import { check } from "../runner/phases";
import { run } from "../runner/processes";

export type RemoteSecrets = List<Meta & { data: Record<string, string> }>;

/** What the credential must be allowed (`yes`) and refused (`no`), as `kubectl auth can-i` arguments. */
const expected: [query: string, want: "yes" | "no"][] = [
    ["list pods --all-namespaces", "yes"],
    ["list services --all-namespaces", "yes"],
    ["list endpointslices.discovery.k8s.io --all-namespaces", "yes"],
    ["list namespaces", "yes"],
    ["list nodes", "yes"],
    // The peer's own mesh config (its trust domain), and no other ConfigMap.
    ["get configmaps/istio -n istio-system", "yes"],
    ["list configmaps --all-namespaces", "no"],
    // No Secret, by any verb: cacerts and the intermediates' keys live in Secrets.
    ["get secrets -n istio-system", "no"],
    ["list secrets --all-namespaces", "no"],
    ["get secrets/cacerts -n istio-system", "no"],
    ["create pods --all-namespaces", "no"],
    ["delete namespaces", "no"],
    ["create serviceexports.multicluster.x-k8s.io --all-namespaces", "no"],
];

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
        // The peer issued this credential to the holder's trust domain, and to no one else.
        const whoami = JSON.parse(await kubectl(file, "auth", "whoami", "-o", "json")) as { status: { userInfo: { username: string } } };
        const username = whoami.status.userInfo.username;
        check(username === `system:serviceaccount:istio-system:peer-reader-${holder.trustDomain}`, `${holder.name}'s remote secret for ${peer.name} authenticates as ${username}, want the reader issued to ${holder.trustDomain}`);
        const answers: string[] = [username];
        for (const [query, want] of expected) {
            // can-i exits 1 on "no"; its answer is on stdout either way.
            const { stdout } = await run(bin("kube", "kubectl"), ["--kubeconfig", file, "auth", "can-i", ...query.split(" ")]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? "error" }));
            answers.push(`${query.split(" ").slice(0, 2).join(" ")}=${stdout.trim()}`);
            check(stdout.trim() === want, `${holder.name}'s remote secret for ${peer.name}: can-i ${query} is "${stdout.trim()}", want ${want}`);
        }
        // And the API server refuses an actual read of a Secret, not only the review.
        const refused = await kubectl(file, "-n", "istio-system", "get", "secret", "cacerts").then(() => "read", (e: { stderr?: string }) => e.stderr ?? "refused");
        check(/forbidden/i.test(refused), `${holder.name}'s remote secret for ${peer.name} read ${peer.name}'s cacerts Secret: ${refused}`);
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
