/**
 * The live istiod phases of a scenario, after `pulumi up`: one istiod per cluster as a host
 * process (istiod.ts), then checks read from each istiod's own debug endpoints and judged
 * against what the peers' API servers hold (checks.ts, peerView.ts). Each function has the shape
 * of a phase body: it pushes evidence lines and throws on a problem. Call, in this order:
 *
 *   const live = new LiveIstiods(clusters, options)    // plain parameters per cluster
 *   await live.start(evidence)                         // phase "istiod-start"
 *   await live.checkMeshConfig(evidence)               // "istiod-mesh-config"
 *   await live.checkPeersSynced(evidence, upEndedAt)   // "istiod-peers-synced" (timing from the end of `up`)
 *   await live.checkPeerServices(evidence)             // "istiod-peer-services"
 *   await live.checkPeerGateways(evidence)             // "istiod-peer-gateways"
 *   await live.checkCaRoot(evidence)                   // "istiod-ca-root"
 *   live.logErrors(evidence)                           // evidence of the last check phase
 *   await live.stop(evidence)                          // always, before `destroy` and teardown
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
    ActiveMeshConfig,
    acceptedTimeout,
    caRootProblems,
    ClusterzEntry,
    clusterzProblems,
    endpointProblems,
    errorLines,
    EndpointShardz,
    ExpectedGateway,
    gatewayProblems,
    meshProblems,
    NetworkGateway,
    RegistryService,
    registryProblems,
} from "./checks";
import { discoveryContainer, PortOverrides } from "./hostCommand";
import { debugJson, IstiodCluster, IstiodOptions, RunningIstiod, startIstiod, stopIstiod, tail } from "./istiod";
import { getOptional, kubectl, kubectlJson } from "./kube";
import { containerOf, Deployment } from "./podSpec";
import { probeReader, ReaderProbeResult } from "./readerProbe";
import { remoteCredentialRules } from "./readerEvidence";
import { forbiddenInLog, RemoteRead } from "./readerRbac";
import { PeerView, readPeerView } from "./peerView";

/** One cluster of the mesh for the live istiod phases. */
export interface LiveCluster extends IstiodCluster {
    /** The domain's trust domain, as the test bed configured it. */
    trustDomain: string;
    /** PEM of the domain's root, as the test bed generated it (not as the program exported it). */
    domainRootPem: string;
}

export interface LiveIstiodOptions {
    /** pilot-discovery built by the toolchain. */
    binary: string;
    /** Working directories go under `<workDir>/<cluster>`. */
    workDir: string;
    logDir: string;
    /** How long a check polls istiod before failing: istiod fills its registry moments after a sync. */
    checkSeconds?: number;
    /** Called with each istiod process as soon as it is spawned (the driver's registry of what teardown stops). */
    onSpawn?: IstiodOptions["onSpawn"];
    /** Ports other than the container's (default: {@link sharedAddressPorts}). */
    ports?: PortOverrides;
    /**
     * Resources a peer's credential may be refused, so that the peer's `timeout` in
     * /debug/clusterz is accepted (with the reason in the evidence) when istiod's log shows that
     * only these were refused: the program withholds Secrets from peers on purpose, and Istio
     * 1.30.3 then reports the peer as timed out while serving its services (components/peerReaders.ts).
     */
    acceptRefused?: string[];
    /** Services that must exist in every peer (`namespace/name`), so that the registry check is never vacuous. */
    requiredServices?: string[];
}

/**
 * istiod's HTTP port (8080: debug endpoints and /ready) is also the SPIRE server's health port
 * (spire-server chart 0.30.0, templates/configmap.yaml: health_checks bind_port "8080"), and both
 * run on the cluster's address: istiod takes another.
 */
export const sharedAddressPorts: PortOverrides = {
    httpAddr: { port: 18080, why: "8080 is the SPIRE server's health port (spire-server chart 0.30.0 health_checks bind_port), which runs on the same address" },
};

/** Polls `problems` once a second until it returns none or `seconds` pass; the last problems found. */
export async function until(seconds: number, problems: () => Promise<string[]>): Promise<string[]> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
        const found = await problems().catch((error: Error) => [error.message]);
        if (found.length === 0 || Date.now() >= deadline) return found;
        await new Promise((resolve) => setTimeout(resolve, 1000));
    }
}

export class LiveIstiods {
    readonly running: RunningIstiod[] = [];
    private readonly views = new Map<string, PeerView>();

    constructor(
        readonly clusters: LiveCluster[],
        readonly options: LiveIstiodOptions,
    ) {}

    private istiodOptions(cluster: IstiodCluster): IstiodOptions {
        return { binary: this.options.binary, workDir: path.join(this.options.workDir, cluster.name), logDir: this.options.logDir, ports: this.options.ports ?? sharedAddressPorts, onSpawn: this.options.onSpawn };
    }

    /** The cluster ID each istiod calls itself: its Deployment's CLUSTER_ID, as resolved for the host process. */
    private clusterId(running: RunningIstiod): string {
        const id = running.command.env.CLUSTER_ID;
        if (!id) throw new Error(`${running.cluster.name}: istiod's Deployment sets no CLUSTER_ID`);
        return id;
    }

    private peersOf(running: RunningIstiod): RunningIstiod[] {
        return this.running.filter((other) => other !== running);
    }

    /** Starts every cluster's istiod; the evidence lists each host change once and what each process was given. */
    async start(evidence: string[]): Promise<void> {
        for (const cluster of this.clusters) {
            // What istiod writes: a ConfigMap read after the start is this process's, not a leftover.
            await kubectl(cluster.kube, ["-n", "istio-system", "delete", "configmap", "istio-ca-root-cert", "--ignore-not-found"]);
            const running = await startIstiod(cluster, this.istiodOptions(cluster));
            this.running.push(running);
            evidence.push(`${cluster.name}: istiod for pod ${running.pod} (CLUSTER_ID ${this.clusterId(running)}) ready in ${(running.readyAfterMs / 1000).toFixed(1)}s at ${running.command.readinessUrl}, log ${running.logFile}`);
            evidence.push(`${cluster.name}: pilot-discovery ${running.command.args.join(" ")}`);
            evidence.push(`${cluster.name}: env ${running.command.resolvedEnv.map((variable) => `${variable.name}=${variable.value}${variable.source === "value" ? "" : ` [${variable.source}]`}`).join(" ")}`);
            for (const volume of running.volumes) evidence.push(`${cluster.name}: ${volume}`);
        }
        for (const change of this.running[0]?.command.changes ?? []) {
            evidence.push(`host change ${change.what}: ${change.container} -> ${change.host.replace(this.running[0].cluster.address, "<cluster address>")} (${change.why})`);
        }
    }

    /**
     * Every istiod lists every peer as `synced` through a remote secret (or `timeout` with only
     * `acceptRefused` refused, said so); the time since `upEndedAt` (ms since epoch) is measured,
     * and the rules each remote secret's credential carries in the peer are listed.
     */
    async checkPeersSynced(evidence: string[], upEndedAt?: number, seconds = 120): Promise<number> {
        const accepted = this.options.acceptRefused ?? [];
        for (const running of this.running) {
            const own = this.clusterId(running);
            const peers = this.peersOf(running);
            const credentials = new Map<string, Awaited<ReturnType<typeof remoteCredentialRules>>>();
            for (const peer of peers) credentials.set(this.clusterId(peer), await remoteCredentialRules(running.cluster.kube, peer.cluster.kube, this.clusterId(peer)));
            let entries: ClusterzEntry[] = [];
            const reasons: Record<string, string> = {};
            const refusedLines: string[] = [];
            let problems: string[] = [];
            await until(seconds, async () => {
                entries = await debugJson<ClusterzEntry[]>(running, "/debug/clusterz");
                const log = fs.readFileSync(running.logFile, "utf8");
                refusedLines.length = 0;
                for (const [peerId, credential] of credentials) {
                    const refused = forbiddenInLog(log, credential.subject);
                    for (const entry of refused) refusedLines.push(`istiod refused ${entry.resource} for ${peerId}: ${entry.line.slice(0, 400)}`);
                    const reason = acceptedTimeout(refused.map((entry) => entry.resource), accepted);
                    if (reason === undefined) delete reasons[peerId];
                    else reasons[peerId] = reason;
                }
                problems = clusterzProblems(entries, own, peers.map((peer) => this.clusterId(peer)), reasons);
                // synced and timeout are final (pkg/kube/multicluster/cluster.go:199-212, 275-279): no use waiting on.
                const final = peers.every((peer) => ["synced", "timeout"].includes(entries.find((entry) => entry.id === this.clusterId(peer))?.syncStatus ?? ""));
                return final ? [] : problems;
            });
            if (problems.length > 0) {
                throw new Error(`${running.cluster.name}: /debug/clusterz: ${problems.join("; ")}${refusedLines.length > 0 ? `\n${refusedLines.join("\n")}` : ""}\nistiod's last log lines (${running.logFile}):\n${tail(running.logFile, 10)}`);
            }
            evidence.push(
                `${running.cluster.name}: /debug/clusterz ${entries.map((entry) => `${entry.id}=${entry.syncStatus}${entry.secretName ? ` (${entry.secretName})` : ""}${reasons[entry.id] && entry.syncStatus === "timeout" ? ` [accepted: ${reasons[entry.id]}]` : ""}`).join(", ")}`,
            );
            // With which rules: the credential each remote secret carries, as the peer's RBAC binds it.
            for (const [peerId, credential] of credentials) {
                evidence.push(`${running.cluster.name} -> ${peerId}: ${credential.secret} authenticates as ${credential.subject}, bound in the peer to: ${credential.rules.join("; ")}`);
            }
        }
        const elapsed = upEndedAt === undefined ? NaN : (Date.now() - upEndedAt) / 1000;
        if (upEndedAt !== undefined) evidence.unshift(`every istiod reports every peer ${accepted.length > 0 ? "synced (or timed out as accepted)" : "synced"} ${elapsed.toFixed(1)}s after the end of \`pulumi up\``);
        return elapsed;
    }

    private async view(cluster: IstiodCluster): Promise<PeerView> {
        let view = this.views.get(cluster.name);
        if (view === undefined) {
            view = await readPeerView(cluster.kube);
            this.views.set(cluster.name, view);
        }
        return view;
    }

    /** Every istiod holds every peer's Services (with the peer's ClusterIPs) and their ready endpoints on the peer's network. */
    async checkPeerServices(evidence: string[]): Promise<void> {
        const required = this.options.requiredServices ?? [];
        for (const running of this.running) {
            for (const peer of this.peersOf(running)) {
                const view = await this.view(peer.cluster);
                const peerId = this.clusterId(peer);
                const absent = required.filter((key) => !view.services.some((service) => `${service.namespace}/${service.name}` === key));
                if (absent.length > 0) throw new Error(`${peer.cluster.name} has no Service ${absent.join(", ")}: the check would prove nothing`);
                const problems = await until(this.options.checkSeconds ?? 60, async () => [
                    ...registryProblems(await debugJson<RegistryService[]>(running, "/debug/registryz"), peerId, view.services),
                    ...endpointProblems(await debugJson<EndpointShardz>(running, "/debug/endpointShardz"), peerId, view.network, view.services),
                ]);
                if (problems.length > 0) throw new Error(`${running.cluster.name} about ${peerId}:\n  ${problems.join("\n  ")}`);
                const endpoints = view.services.reduce((sum, service) => sum + service.readyAddresses.length, 0);
                const named = view.services.filter((service) => required.includes(`${service.namespace}/${service.name}`)).map((service) => `${service.namespace}/${service.name} ${service.readyAddresses.join(",") || "(no endpoints)"}`);
                evidence.push(`${running.cluster.name}: all ${view.services.length} Services of ${peerId} in /debug/registryz with ${peerId}'s ClusterIPs, all ${endpoints} ready endpoints in shard Kubernetes/${peerId} of /debug/endpointShardz on network ${view.network}${named.length > 0 ? `; among them ${named.join("; ")}` : ""}`);
            }
        }
    }

    /** Every istiod knows each peer network's gateway at the peer's node address and node port (or its load balancer). */
    async checkPeerGateways(evidence: string[]): Promise<void> {
        for (const running of this.running) {
            const expected: ExpectedGateway[] = [];
            for (const peer of this.peersOf(running)) {
                const view = await this.view(peer.cluster);
                if (view.gateway === undefined) throw new Error(`${peer.cluster.name}: its east-west gateway has no address yet`);
                expected.push(view.gateway);
            }
            let gateways: NetworkGateway[] = [];
            const problems = await until(this.options.checkSeconds ?? 60, async () => {
                gateways = (await debugJson<NetworkGateway[] | null>(running, "/debug/networkz")) ?? [];
                return gatewayProblems(gateways, expected);
            });
            if (problems.length > 0) throw new Error(`${running.cluster.name}: /debug/networkz: ${problems.join("; ")}`);
            evidence.push(`${running.cluster.name}: /debug/networkz ${gateways.map((g) => `${g.Network}=${g.Addr}:${g.Port} (cluster ${g.Cluster})`).join(", ")}; expected from the peers' nodes and Services: ${expected.map((g) => `${g.network}=${g.address}:${g.port}`).join(", ")}`);
        }
    }

    /** Each istiod runs with its domain's trust domain (`/debug/mesh`): it read and accepted the program's mesh config. */
    async checkMeshConfig(evidence: string[]): Promise<void> {
        for (const running of this.running) {
            const cluster = this.clusters.find((c) => c.name === running.cluster.name)!;
            const mesh = await debugJson<ActiveMeshConfig>(running, "/debug/mesh");
            const problems = meshProblems(mesh, cluster.trustDomain);
            if (problems.length > 0) throw new Error(`${cluster.name}: ${problems.join("; ")}`);
            evidence.push(`${cluster.name}: /debug/mesh trustDomain ${mesh.trustDomain}, trustDomainAliases [${(mesh.trustDomainAliases ?? []).join(", ")}], rootNamespace ${mesh.rootNamespace}`);
        }
    }

    /** Evidence only: istiod's own error lines so far, per cluster (the first few, verbatim). */
    logErrors(evidence: string[]): void {
        for (const running of this.running) {
            const errors = errorLines(fs.readFileSync(running.logFile, "utf8"));
            evidence.push(`${running.cluster.name}: ${errors.length} error lines in istiod's log${errors.length > 0 ? `; first: ${errors.slice(0, 3).map((line) => line.slice(0, 300)).join(" | ")}` : ""}`);
        }
    }

    /** The root each istiod distributes (ConfigMap istio-ca-root-cert it writes in every namespace) is its domain's root. */
    async checkCaRoot(evidence: string[]): Promise<void> {
        for (const running of this.running) {
            const cluster = this.clusters.find((c) => c.name === running.cluster.name)!;
            for (const namespace of ["istio-system", "default"]) {
                let pem: string | undefined;
                const problems = await until(this.options.checkSeconds ?? 60, async () => {
                    const configMap = await getOptional<{ data?: Record<string, string> }>(cluster.kube, ["-n", namespace, "configmap", "istio-ca-root-cert"]);
                    pem = configMap?.data?.["root-cert.pem"];
                    return caRootProblems(pem, cluster.domainRootPem, `${cluster.name} ${namespace}/istio-ca-root-cert`);
                });
                if (problems.length > 0) throw new Error(problems.join("; "));
            }
            evidence.push(`${cluster.name}: istio-ca-root-cert (written by the host istiod) in istio-system and default holds exactly the domain's root`);
        }
    }

    /**
     * A scratch istiod of `holder` reading `peer` through a credential bound to exactly `reads`
     * (readerProbe.ts); run it while the holder's own istiod is stopped. The evidence names the
     * peer's sync status and what istiod's log says it was forbidden to read.
     */
    async probeReader(evidence: string[], label: string, reads: RemoteRead[], holder = this.clusters[0], peer = this.clusters[1]): Promise<ReaderProbeResult> {
        const deployment = await kubectlJson<Deployment>(peer.kube, ["-n", "istio-system", "get", "deployment", "istiod"]);
        const peerId = containerOf(deployment.spec.template.spec, discoveryContainer).env?.find((variable) => variable.name === "CLUSTER_ID")?.value;
        if (!peerId) throw new Error(`${peer.name}: istiod's Deployment sets no CLUSTER_ID`);
        const result = await probeReader(holder, peer, peerId, label, reads, this.istiodOptions(holder));
        evidence.push(
            `${holder.name} reading ${peerId} with ${reads.map((read) => read.resource).join(", ")}: ${result.status} ${result.seconds.toFixed(1)}s after the start, ${result.peerServices} of its Services in the registry; forbidden in istiod's log: ${result.forbidden.map((entry) => entry.resource).join(", ") || "nothing"}`,
        );
        for (const entry of result.forbidden) evidence.push(`  istiod: ${entry.line.slice(0, 400)}`);
        return result;
    }

    /** Stops every istiod (also those of a failed start); their logs stay in the log folder. */
    async stop(evidence: string[]): Promise<void> {
        for (const running of this.running.splice(0)) evidence.push(await stopIstiod(running));
    }

    /** Keeps the working directories only on failure (they hold tokens and CA keys). */
    cleanWorkDirs(): void {
        fs.rmSync(this.options.workDir, { recursive: true, force: true });
    }
}
