/**
 * The live SPIRE layer as phases a scenario runs after `pulumi up` (and its static checks), in
 * order, each with its evidence; `stopLiveSpire` before `destroy`. Inputs are plain: clusters by
 * address and kubeconfig, roots as PEM, the program's exports as the stack output holds them.
 */
import * as path from "node:path";
import { checkBundleRefresh, checkServerCa, checkWorkloadEntries, checkWorkloadSvid, labelAsInjected, LiveDomain, waitPeerBundlesFetched } from "./checks";
import { closeAllForwarders, Forwarder } from "./forwarder";
import { agentRewrites, controllerManagerEnvironment, controllerManagerRewrites, serverRewrites } from "./spireConfig";
import { LiveCluster, SpireBinaries, startAgents, startBundleEndpointForwarder, startControllerManager, startSpireServer } from "./spire";
import { stopAll } from "./supervisor";
import type { X509Certificate } from "node:crypto";

/** The binaries under a toolchain cache (`.e2e-cache/bin`), where e2e/build-toolchain.sh puts them. */
export function spireBinariesIn(binDir: string): SpireBinaries {
    return {
        server: path.join(binDir, "spire", "current", "spire-server"),
        agent: path.join(binDir, "spire", "current", "spire-agent"),
        controllerManager: path.join(binDir, "spire-controller-manager", "current", "spire-controller-manager"),
    };
}

/** One domain as a scenario knows it after `up`. */
export interface LiveDomainInput {
    cluster: LiveCluster;
    /** The domain's root certificate (PEM), as the test bed generated and supplied it. */
    rootPem: string;
    /** The program's stack outputs for the domain: `trustBundle` and `bundleEndpointUrl`. */
    exported: { trustBundle: string; bundleEndpointUrl: string };
}

export interface LivePhase {
    name: string;
    run(evidence: string[]): Promise<void>;
}

/** Timings a scenario reports (docs/performance.md): seconds from the end of `pulumi up`. */
export interface LiveTimings {
    serversReady?: number;
    everyPeerBundleFetched?: number;
    refreshSeconds?: number;
}

/**
 * The phases, in order. Each needs the ones before it: a runner skips the rest after a failure.
 * The node-port forwarders start before the controller managers create the federation
 * relationships: a server whose first fetch fails waits a quarter of the bootstrap bundle's
 * refresh hint (75 s) before the next.
 *
 * @param inputs Every domain of the mesh; each federates with all the others.
 * @param binaries spire-server, spire-agent, spire-controller-manager.
 * @param upEndedAt `Date.now()` when `pulumi up` returned: timings count from there.
 * @param timings Filled as the phases pass.
 */
export function spireLivePhases(inputs: LiveDomainInput[], binaries: SpireBinaries, upEndedAt: number, timings: LiveTimings = {}): LivePhase[] {
    const domains: LiveDomain[] = [];
    const forwarders: Forwarder[] = [];
    const cas = new Map<LiveDomain, X509Certificate>();
    const since = () => (Date.now() - upEndedAt) / 1000;
    const peersOf = (domain: LiveDomain) => domains.filter((other) => other !== domain);
    return [
        {
            name: "live-spire-servers",
            run: async (evidence) => {
                evidence.push(`rewrites of the rendered server.conf: ${serverRewrites.map((rewrite) => rewrite.name).join(", ")}`);
                for (const input of inputs) {
                    const server = await startSpireServer(input.cluster, binaries);
                    domains.push({ ...input, binaries, server, agents: [] });
                    const changed = Object.values(server.changes).flat();
                    evidence.push(`${input.cluster.name}: spire-server from ${server.rendered.namespace}/${server.rendered.configMap}[server.conf], healthy after ${server.readySeconds.toFixed(0)}s; ${changed.length} changes: ${changed.join("; ")}`);
                }
                timings.serversReady = since();
            },
        },
        {
            name: "live-bundle-endpoints",
            run: async (evidence) => {
                for (const domain of domains) {
                    const forwarder = await startBundleEndpointForwarder(domain.cluster);
                    forwarders.push(forwarder);
                    evidence.push(`${domain.cluster.name}: kube-proxy stand-in for ${forwarder.service}: ${forwarder.route} (node port ${forwarder.nodePort}, endpoint port ${forwarder.endpointPort} from its EndpointSlice; exported URL ${domain.exported.bundleEndpointUrl})`);
                }
            },
        },
        {
            name: "live-spire-controller-managers",
            run: async (evidence) => {
                evidence.push(`rewrites of the rendered config: ${controllerManagerRewrites.map((rewrite) => rewrite.name).join(", ")}; environment: ${Object.entries(controllerManagerEnvironment("KUBECONFIG").why).map(([key, why]) => `${key} (${why.split(":")[0]})`).join(", ")}`);
                for (const domain of domains) {
                    const manager = await startControllerManager(domain.cluster, binaries, domain.server);
                    evidence.push(`${domain.cluster.name}: spire-controller-manager from ${manager.rendered.namespace}/${manager.rendered.configMap}, ready; changes: ${Object.values(manager.changes).flat().join("; ")}`);
                }
            },
        },
        {
            name: "live-spire-agents",
            run: async (evidence) => {
                evidence.push(`rewrites of the rendered agent.conf: ${agentRewrites.map((rewrite) => rewrite.name).join(", ")}`);
                for (const domain of domains) {
                    domain.agents = await startAgents(domain.cluster, binaries, domain.server);
                    for (const agent of domain.agents) {
                        evidence.push(`${domain.cluster.name}: agent for pod ${agent.pod.namespace}/${agent.pod.name} (node ${agent.node}, service account ${agent.pod.serviceAccount}, token audience ${agent.audience.join(",") || "(API server's)"}) attested as ${agent.spiffeId}`);
                    }
                }
            },
        },
        {
            name: "live-check-spire-ca",
            run: async (evidence) => {
                for (const domain of domains) cas.set(domain, await checkServerCa(domain, evidence));
            },
        },
        {
            name: "live-check-federation",
            run: async (evidence) => {
                await waitPeerBundlesFetched(domains, 180_000, evidence);
                timings.everyPeerBundleFetched = since();
                evidence.unshift(`every peer bundle fetched ${timings.everyPeerBundleFetched.toFixed(0)}s after the end of pulumi up; through the forwarders: ${forwarders.map((forwarder) => `${forwarder.route} ${forwarder.connections()} connections`).join(", ")}`);
            },
        },
        {
            name: "live-check-bundle-refresh",
            // The served refresh hint is the program's (300 s): SPIRE refetches every hint/4.
            run: async (evidence) => {
                timings.refreshSeconds = await checkBundleRefresh(domains, domains[0], 240_000, evidence);
            },
        },
        {
            name: "live-check-entries",
            run: async (evidence) => {
                for (const domain of domains) {
                    const pods = await labelAsInjected(domain.cluster);
                    evidence.push(`${domain.cluster.name}: injector stand-in labelled ${pods.length} pods ${pods.map((pod) => `${pod.metadata.namespace}/${pod.metadata.name}`).join(", ")}`);
                    await checkWorkloadEntries(domain, pods, peersOf(domain).map((peer) => peer.cluster.trustDomain), 120_000, evidence);
                }
            },
        },
        {
            name: "live-check-workload-svid",
            run: async (evidence) => {
                for (const domain of domains) await checkWorkloadSvid(domain, cas.get(domain)!, peersOf(domain), 120_000, evidence);
            },
        },
    ];
}

/** Stops every live process and forwarder this layer started (before `destroy`: they talk to the API server). */
export async function stopLiveSpire(): Promise<string[]> {
    return [...(await closeAllForwarders()), ...(await stopAll())];
}
