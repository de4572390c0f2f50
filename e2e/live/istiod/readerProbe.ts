/**
 * A live probe of a reader rule set: in the peer, a scratch ServiceAccount bound to exactly the
 * rules; in the holder, a scratch namespace with a remote secret for the peer carrying that
 * account's token; a scratch istiod of the holder (its own Deployment's args and env, plus
 * `--clusterRegistriesNamespace` naming the scratch namespace, so the program's remote secrets
 * are not read) reports the peer's sync status, its log names what it was forbidden to read.
 * Everything scratch is deleted afterwards. Run it while the holder's own istiod is stopped: the
 * scratch one listens on the same ports.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ClusterzEntry, RegistryService } from "./checks";
import { debugJson, IstiodCluster, IstiodOptions, startIstiod, stopIstiod } from "./istiod";
import { kubectl, serverOf, serviceAccountToken, tokenKubeconfigText } from "./kube";
import { forbiddenInLog, readerManifests, RemoteRead } from "./readerRbac";

/** Polls `problems` once a second until none or `seconds` pass. */
async function poll(seconds: number, problems: () => Promise<string[]>): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    while ((await problems().catch((error: Error) => [error.message])).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1000));
}

/** Namespace of the probe's objects, in both clusters. */
export const probeNamespace = "e2e-reader-probe";

export interface ReaderProbeResult {
    label: string;
    /** The peer's status in the scratch istiod's /debug/clusterz once it left `syncing` (or after the wait). */
    status: string;
    /** Seconds from the scratch istiod's start to that status. */
    seconds: number;
    /** What istiod's log names as forbidden, with its first line for each. */
    forbidden: { resource: string; line: string }[];
    /** Services of the peer in the scratch istiod's registry (addressed under the peer's cluster ID). */
    peerServices: number;
}

/**
 * Probes `reads` as the credential `holder`'s istiod uses for `peer` (cluster ID `peerId`).
 * `options` are the holder's istiod options (binary, folders); the probe's work folder is a
 * sibling of the holder's.
 */
export async function probeReader(holder: IstiodCluster, peer: IstiodCluster, peerId: string, label: string, reads: RemoteRead[], options: IstiodOptions, waitSeconds = 75): Promise<ReaderProbeResult> {
    const account = `e2e-reader-${label}`;
    const manifests = readerManifests(account, probeNamespace, reads);
    try {
        await kubectl(peer.kube, ["apply", "-f", "-"], manifests.map((object) => JSON.stringify(object)).join("\n"));
        const token = await serviceAccountToken(peer.kube, probeNamespace, account, { seconds: 3600 });
        const caPem = await kubectl(peer.kube, ["-n", "kube-system", "get", "configmap", "kube-root-ca.crt", "-o", "jsonpath={.data.ca\\.crt}"]);
        const kubeconfig = tokenKubeconfigText(peerId, await serverOf(peer.kube), caPem, token);
        const secret = {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: `e2e-remote-${peerId}`, namespace: probeNamespace, labels: { "istio/multiCluster": "true" } },
            stringData: { [peerId]: kubeconfig },
        };
        const namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name: probeNamespace } };
        await kubectl(holder.kube, ["apply", "-f", "-"], [namespace, secret].map((object) => JSON.stringify(object)).join("\n"));

        const t0 = Date.now();
        const running = await startIstiod(holder, {
            ...options,
            workDir: path.join(path.dirname(options.workDir), `${holder.name}-probe-${label}`),
            extraArgs: [...(options.extraArgs ?? []), `--clusterRegistriesNamespace=${probeNamespace}`],
            tag: `probe-${label}`,
        });
        try {
            let status = "unlisted";
            await poll(waitSeconds, async () => {
                const entries = await debugJson<ClusterzEntry[]>(running, "/debug/clusterz");
                status = entries.find((entry) => entry.id === peerId)?.syncStatus ?? "unlisted";
                return status === "synced" || status === "timeout" ? [] : [status];
            });
            const seconds = (Date.now() - t0) / 1000;
            // A moment for the registry to fill after a sync.
            let peerServices = 0;
            await poll(status === "synced" ? 15 : 5, async () => {
                const services = await debugJson<RegistryService[]>(running, "/debug/registryz");
                peerServices = services.filter((service) => service.clusterVIPs?.Addresses?.[peerId] !== undefined).length;
                return peerServices > 0 ? [] : ["none yet"];
            });
            return { label, status, seconds, forbidden: forbiddenInLog(fs.readFileSync(running.logFile, "utf8")), peerServices };
        } finally {
            await stopIstiod(running);
        }
    } finally {
        await kubectl(holder.kube, ["delete", "namespace", probeNamespace, "--ignore-not-found", "--timeout=90s"]).catch(() => undefined);
        await kubectl(peer.kube, ["delete", "clusterrole,clusterrolebinding", account, "--ignore-not-found"]).catch(() => undefined);
        await kubectl(peer.kube, ["delete", "role,rolebinding", "--all-namespaces", "-l", "e2e.spire-istio-mesh/probe=reader-rbac", "--ignore-not-found"]).catch(() => undefined);
        await kubectl(peer.kube, ["delete", "namespace", probeNamespace, "--ignore-not-found", "--timeout=90s"]).catch(() => undefined);
    }
}
