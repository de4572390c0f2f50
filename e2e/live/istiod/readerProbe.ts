/**
 * A live probe of a reader rule set: in the peer, a scratch ServiceAccount bound to exactly the
 * rules; in the holder's `istio-system`, a scratch remote secret carrying that account's token
 * under a cluster ID of its own (`<peer>-probe`), beside the program's remote secrets, which it
 * leaves alone; a scratch istiod of the holder (its own Deployment's args and env) reports that
 * cluster's sync status, and its log names what it was forbidden to read. Istio 1.30.3 reads
 * remote secrets from the system namespace only (pilot/pkg/bootstrap/server.go:1232-1235 passes
 * `args.Namespace`; `--clusterRegistriesNamespace` is not consulted), hence the ID of its own.
 * Everything scratch is deleted afterwards. Run it while the holder's own istiod is stopped: the
 * scratch one listens on the same ports.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ClusterzEntry, RegistryService } from "./checks";
import { debugJson, IstiodCluster, IstiodOptions, RunningIstiod, startIstiod, stopIstiod } from "./istiod";
import { kubectl, serverOf, serviceAccountToken, tokenKubeconfigText } from "./kube";
import { forbiddenInLog, readerManifests, RemoteRead } from "./readerRbac";

/** Polls `problems` once a second until none or `seconds` pass. */
async function poll(seconds: number, problems: () => Promise<string[]>): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    while ((await problems().catch((error: Error) => [error.message])).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1000));
}

/** Namespace of the probe's ServiceAccount in the peer. */
export const probeNamespace = "e2e-reader-probe";

export interface ReaderProbeResult {
    label: string;
    /** The cluster ID the probe's remote secret registers the peer under. */
    probeId: string;
    /** That cluster's status in the scratch istiod's /debug/clusterz once it left `syncing` (or after the wait). */
    status: string;
    /** Seconds from the scratch istiod's start to that status. */
    seconds: number;
    /** What istiod's log names as forbidden, with its first line for each. */
    forbidden: { resource: string; line: string }[];
    /** Services of the peer in the scratch istiod's registry under the probe's cluster ID. */
    peerServices: number;
}

/**
 * Probes `reads` as the credential `holder`'s istiod uses for `peer` (cluster ID `peerId`).
 * `options` are the holder's istiod options (binary, folders); the probe's work folder is a
 * sibling of the holder's.
 */
export async function probeReader(holder: IstiodCluster, peer: IstiodCluster, peerId: string, label: string, reads: RemoteRead[], options: IstiodOptions, waitSeconds = 75, readySeconds = 90): Promise<ReaderProbeResult> {
    const account = `e2e-reader-${label}`;
    const probeId = `${peerId}-probe`;
    const secretName = `e2e-reader-probe-${peerId}`;
    const manifests = readerManifests(account, probeNamespace, reads);
    try {
        await kubectl(peer.kube, ["apply", "-f", "-"], manifests.map((object) => JSON.stringify(object)).join("\n"));
        const token = await serviceAccountToken(peer.kube, probeNamespace, account, { seconds: 3600 });
        const caPem = await kubectl(peer.kube, ["-n", "kube-system", "get", "configmap", "kube-root-ca.crt", "-o", "jsonpath={.data.ca\\.crt}"]);
        const kubeconfig = tokenKubeconfigText(probeId, await serverOf(peer.kube), caPem, token);
        const secret = {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: secretName, namespace: "istio-system", labels: { "istio/multiCluster": "true" } },
            stringData: { [probeId]: kubeconfig },
        };
        await kubectl(holder.kube, ["apply", "-f", "-"], JSON.stringify(secret));

        const t0 = Date.now();
        const probeOptions: IstiodOptions = {
            ...options,
            workDir: path.join(path.dirname(options.workDir), `${holder.name}-probe-${label}`),
            tag: `probe-${label}`,
            readyTimeoutSeconds: readySeconds,
        };
        let running: RunningIstiod;
        try {
            running = await startIstiod(holder, probeOptions);
        } catch (error) {
            // A refused read can keep istiod from ever being ready, for its own cluster too: an outcome, not a probe failure.
            const logFile = path.join(options.logDir, `istiod-${holder.name}-probe-${label}.log`);
            if (!/not ready within/.test((error as Error).message) || !fs.existsSync(logFile)) throw error;
            const log = fs.readFileSync(logFile, "utf8");
            const notReady = [...new Set(log.split("\n").filter((line) => /\twarn\t.* is not ready$/.test(line)).map((line) => line.split("\t").pop()))];
            return { label, probeId, status: `istiod not ready after ${readySeconds}s (${notReady.join(", ") || "no reason logged"})`, seconds: (Date.now() - t0) / 1000, forbidden: forbiddenInLog(log), peerServices: 0 };
        }
        try {
            let status = "unlisted";
            await poll(waitSeconds, async () => {
                const entries = await debugJson<ClusterzEntry[]>(running, "/debug/clusterz");
                status = entries.find((entry) => entry.id === probeId)?.syncStatus ?? "unlisted";
                return status === "synced" || status === "timeout" ? [] : [status];
            });
            const seconds = (Date.now() - t0) / 1000;
            // A moment for the registry to fill after a sync.
            let peerServices = 0;
            await poll(status === "synced" ? 15 : 5, async () => {
                const services = await debugJson<RegistryService[]>(running, "/debug/registryz");
                peerServices = services.filter((service) => service.clusterVIPs?.Addresses?.[probeId] !== undefined).length;
                return peerServices > 0 ? [] : ["none yet"];
            });
            return { label, probeId, status, seconds, forbidden: forbiddenInLog(fs.readFileSync(running.logFile, "utf8")), peerServices };
        } finally {
            await stopIstiod(running);
        }
    } finally {
        await kubectl(holder.kube, ["-n", "istio-system", "delete", "secret", secretName, "--ignore-not-found"]).catch(() => undefined);
        await kubectl(peer.kube, ["delete", "clusterrole,clusterrolebinding", account, "--ignore-not-found"]).catch(() => undefined);
        await kubectl(peer.kube, ["delete", "role,rolebinding", "--all-namespaces", "-l", "e2e.spire-istio-mesh/probe=reader-rbac", "--ignore-not-found"]).catch(() => undefined);
        await kubectl(peer.kube, ["delete", "namespace", probeNamespace, "--ignore-not-found", "--timeout=90s"]).catch(() => undefined);
    }
}
