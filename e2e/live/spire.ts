/**
 * One cluster's SPIRE control plane as host processes against its API server, started from what
 * the program deployed: the SPIRE server and controller manager with the configs the chart
 * rendered into their ConfigMaps, one agent per node attesting with k8s_psat through a token for
 * its own (simulated) pod, and the bundle endpoint's node port forwarded to the server
 * (the test bed's kube-proxy stand-in). Only e2e/live/spireConfig.ts's rewrites change a config.
 *
 * Call after `pulumi up`, per cluster, in this order: `startSpireServer`, `startControllerManager`,
 * `startAgents`, `startBundleEndpointForwarder` (the last before any peer can fetch the bundle).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { startForwarder, Forwarder } from "./forwarder";
import { Condition, KubeAccess, kubectlJson, List, Meta, PodIdentity, podIdentityMounting, podKubeconfig, podToken, renderedFile, RenderedFile } from "./kube";
import {
    controllerManagerEnvironment,
    hostAgentConf,
    hostControllerManagerConfig,
    hostServerConf,
    JsonObject,
    parseRenderedConf,
    pluginData,
    serverFacts,
    serviceOfAddress,
    ServerFacts,
} from "./spireConfig";
import { LiveProcess, runTool, startProcess, waitFor, waitReady } from "./supervisor";

/** The binaries of the live SPIRE layer (e2e/build-toolchain.sh builds them). */
export interface SpireBinaries {
    server: string;
    agent: string;
    controllerManager: string;
}

/** One cluster of the test bed, in plain terms. */
export interface LiveCluster extends KubeAccess {
    /** The cluster's name (e2e/cluster.sh's NAME), for messages and folders. */
    name: string;
    /** Its loopback address: the API server's, the kwok node's InternalIP, and every live process's listeners. */
    address: string;
    /** The trust domain the program deployed there. */
    trustDomain: string;
    /** Folder for this cluster's live configs, data and sockets (created). Unix sockets go here: keep it short. */
    workDir: string;
    /** Folder for the processes' logs (created). */
    logDir: string;
}

/** A running SPIRE server and what it was started from. */
export interface LiveServer {
    process: LiveProcess;
    socketPath: string;
    facts: ServerFacts;
    rendered: RenderedFile;
    configFile: string;
    /** What each rewrite changed (for evidence). */
    changes: Record<string, string[]>;
    readySeconds: number;
    /** The pod the process stands in for, whose service account its API-server plugins act as. */
    identity: PodIdentity;
}

/** Unix socket paths are limited to 107 bytes; a long work folder fails here, not as an obscure bind error. */
function socketIn(dir: string, name: string): string {
    const socket = path.join(dir, name);
    if (Buffer.byteLength(socket) > 100) throw new Error(`socket path ${socket} is longer than 100 bytes; use a shorter work folder`);
    return socket;
}

/** `spire-server <args> -socketPath <socket>` and its output. */
export function spireServerCli(binaries: SpireBinaries, socketPath: string, ...args: string[]): Promise<string> {
    return runTool(binaries.server, [...args, "-socketPath", socketPath]);
}

/** The same with `-output json`, parsed. */
export async function spireServerJson<T>(binaries: SpireBinaries, socketPath: string, ...args: string[]): Promise<T> {
    return JSON.parse(await spireServerCli(binaries, socketPath, ...args, "-output", "json")) as T;
}

/**
 * The SPIRE server with the chart's rendered `server.conf` (the ConfigMap holding it), changed only
 * by `serverRewrites`; ready once `spire-server healthcheck` passes on its socket, which needs its
 * CA minted through the cert-manager upstream authority.
 */
export async function startSpireServer(cluster: LiveCluster, binaries: SpireBinaries, timeoutMs = 180_000): Promise<LiveServer> {
    const dir = path.join(cluster.workDir, "server");
    fs.mkdirSync(dir, { recursive: true });
    const rendered = await renderedFile(cluster, "server.conf");
    const original = parseRenderedConf(rendered.text, `${rendered.namespace}/${rendered.configMap} server.conf`);
    fs.writeFileSync(path.join(dir, "server.rendered.conf"), rendered.text);
    const socketPath = socketIn(dir, "api.sock");
    // The plugins act as the server pod's service account (the chart's RBAC), not as the test bed's admin.
    const identity = await podIdentityMounting(cluster, rendered.namespace, rendered.configMap);
    const kubeconfig = path.join(dir, "pod.kubeconfig");
    await podKubeconfig(cluster, identity, identity.pods[0].name, kubeconfig);
    const { config, changes } = hostServerConf(original, { address: cluster.address, dataDir: path.join(dir, "data"), socketPath, kubeconfig });
    const configFile = path.join(dir, "server.conf");
    fs.writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
    const process = startProcess(`${cluster.name}/spire-server`, binaries.server, ["run", "-config", configFile], { logDir: cluster.logDir, cwd: dir });
    const readySeconds = await waitReady(process, "healthcheck", async () => (await spireServerCli(binaries, socketPath, "healthcheck")).includes("healthy"), timeoutMs);
    return { process, socketPath, facts: serverFacts(original), rendered, configFile, changes, readySeconds, identity };
}

/**
 * spire-controller-manager with the chart's rendered config, in API-server mode (KUBECONFIG, no
 * webhooks), reconciling the program's ClusterFederatedTrustDomains and ClusterSPIFFEIDs into the
 * host server; ready when its health endpoint answers.
 */
export async function startControllerManager(cluster: LiveCluster, binaries: SpireBinaries, server: LiveServer, timeoutMs = 120_000): Promise<{ process: LiveProcess; rendered: RenderedFile; changes: Record<string, string[]>; env: Record<string, string>; identity: PodIdentity }> {
    const dir = path.join(cluster.workDir, "controller-manager");
    fs.mkdirSync(dir, { recursive: true });
    const rendered = await renderedFile(cluster, "controller-manager-config.yaml");
    fs.writeFileSync(path.join(dir, "config.rendered.yaml"), rendered.text);
    const { yaml, config, changes } = hostControllerManagerConfig(rendered.text, { address: cluster.address, serverSocketPath: server.socketPath });
    const configFile = path.join(dir, "config.yaml");
    fs.writeFileSync(configFile, yaml);
    // It acts as its pod's service account (the chart's RBAC for it), like the server's plugins.
    const identity = await podIdentityMounting(cluster, rendered.namespace, rendered.configMap);
    const kubeconfig = path.join(dir, "pod.kubeconfig");
    await podKubeconfig(cluster, identity, identity.pods[0].name, kubeconfig);
    const { env } = controllerManagerEnvironment(kubeconfig);
    const process = startProcess(`${cluster.name}/spire-controller-manager`, binaries.controllerManager, ["--config", configFile], { logDir: cluster.logDir, cwd: dir, env });
    const health = (config.health as JsonObject | undefined)?.healthProbeBindAddress;
    await waitReady(
        process,
        "readyz",
        async () => {
            if (typeof health !== "string") return fs.readFileSync(process.logFile, "utf8").includes("Starting workers");
            const response = await fetch(`http://${health}/readyz`);
            return response.ok;
        },
        timeoutMs,
    );
    return { process, rendered, changes, env, identity };
}

/** A running agent, the pod it stands for, and the ID it attested as. */
export interface LiveAgent {
    process: LiveProcess;
    node: string;
    pod: { namespace: string; name: string; serviceAccount: string };
    socketPath: string;
    /** `spiffe://<td>/spire/agent/k8s_psat/<cluster>/<node uid>` as the server lists it. */
    spiffeId: string;
    audience: string[];
    changes: Record<string, string[]>;
}

/**
 * One agent per node, each the stand-in for the agent DaemonSet's (kwok) pod on that node: the
 * rendered `agent.conf` (changed only by `agentRewrites`), a bound token for that pod's service
 * account with the audience the server's k8s_psat expects, and the trust bundle from the ConfigMap
 * the server's k8sbundle notifier writes. Ready when the server lists the agent as attested.
 */
export async function startAgents(cluster: LiveCluster, binaries: SpireBinaries, server: LiveServer, timeoutMs = 120_000): Promise<LiveAgent[]> {
    const rendered = await renderedFile(cluster, "agent.conf");
    const original = parseRenderedConf(rendered.text, `${rendered.namespace}/${rendered.configMap} agent.conf`);
    const psatCluster = String(pluginData(original, "NodeAttestor", "k8s_psat")?.cluster ?? "");
    const accepted = server.facts.psat[psatCluster];
    if (accepted === undefined) throw new Error(`agent.conf attests as cluster "${psatCluster}", which the server's k8s_psat does not list (it lists: ${Object.keys(server.facts.psat).join(", ") || "none"})`);

    // The workload mounting this ConfigMap (the agent DaemonSet) has the pods to stand in for: one per node.
    const identity = await podIdentityMounting(cluster, rendered.namespace, rendered.configMap);

    const bundleSource = server.facts.bundleConfigMap;
    if (bundleSource === undefined) throw new Error("server.conf has no k8s_configmap bundle publisher nor k8sbundle notifier: nothing publishes the bundle the agent's chart mounts");
    // The server publishes the bundle once it has its CA: PEM, or a SPIFFE bundle (JSON with keys).
    const { value: bundlePem } = await waitFor(
        `ConfigMap ${bundleSource.namespace}/${bundleSource.name}[${bundleSource.key}] filled by the server's ${bundleSource.plugin}`,
        async () => {
            const map = await kubectlJson<{ data?: Record<string, string> }>(cluster, "-n", bundleSource.namespace, "get", "configmap", bundleSource.name);
            const bundle = map.data?.[bundleSource.key];
            return bundle?.includes("BEGIN CERTIFICATE") || bundle?.includes('"keys"') ? bundle : undefined;
        },
        60_000,
    );

    // kube-proxy's part for the server's Service: the port its EndpointSlice routes server_port to.
    const renderedAgent = original.agent as JsonObject;
    const service = serviceOfAddress(String(renderedAgent.server_address));
    if (service === undefined) throw new Error(`agent.conf's server_address ${String(renderedAgent.server_address)} names no Service`);
    const serverPort = await endpointPortOf(cluster, service.namespace, service.name, Number(renderedAgent.server_port));

    const agents: LiveAgent[] = [];
    for (const pod of identity.pods) {
        const node = pod.node;
        const dir = path.join(cluster.workDir, `agent-${node}`);
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "agent.rendered.conf"), rendered.text);
        const trustBundlePath = path.join(dir, path.basename(bundleSource.key));
        fs.writeFileSync(trustBundlePath, bundlePem);
        const tokenPath = path.join(dir, "token");
        fs.writeFileSync(tokenPath, await podToken(cluster, identity, pod.name, accepted.audience), { mode: 0o600 });
        const serviceAccountTokenPath = path.join(dir, "serviceaccount-token");
        fs.writeFileSync(serviceAccountTokenPath, await podToken(cluster, identity, pod.name), { mode: 0o600 });
        const socketDir = path.join(dir, "s");
        fs.mkdirSync(path.join(socketDir, "public"), { recursive: true });
        fs.mkdirSync(path.join(socketDir, "private"), { recursive: true });
        const { config, changes } = hostAgentConf(original, { address: cluster.address, serverPort, dataDir: path.join(dir, "data"), socketDir, tokenPath, serviceAccountTokenPath, trustBundlePath });
        const socketPath = socketIn(socketDir, path.relative(socketDir, String((config.agent as JsonObject).socket_path)));
        const configFile = path.join(dir, "agent.conf");
        fs.writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
        const process = startProcess(`${cluster.name}/spire-agent-${node}`, binaries.agent, ["run", "-config", configFile], { logDir: cluster.logDir, cwd: dir });
        const podSelector = `k8s_psat:agent_pod_name:${pod.name}`;
        let spiffeId = "";
        await waitReady(
            process,
            "attestation (the server lists it, and its healthcheck passes)",
            async () => {
                const listed = await attestedAgents(binaries, server.socketPath);
                const mine = listed.find((agent) => agent.selectors.includes(podSelector));
                if (mine === undefined) return false;
                spiffeId = mine.spiffeId;
                return (await runTool(binaries.agent, ["healthcheck", "-socketPath", socketPath])).includes("healthy");
            },
            timeoutMs,
        );
        agents.push({ process, node, pod: { namespace: rendered.namespace, name: pod.name, serviceAccount: identity.serviceAccount }, socketPath, spiffeId, audience: accepted.audience, changes });
    }
    return agents;
}

/** An agent as `spire-server agent list` reports it. */
export interface AttestedAgent {
    spiffeId: string;
    attestationType: string;
    selectors: string[];
}

interface SpiffeIdJson {
    trust_domain: string;
    path: string;
}
export const idOf = (id: SpiffeIdJson): string => `spiffe://${id.trust_domain}${id.path}`;

export async function attestedAgents(binaries: SpireBinaries, socketPath: string): Promise<AttestedAgent[]> {
    const listed = await spireServerJson<{ agents?: { id: SpiffeIdJson; attestation_type: string; selectors?: { type: string; value: string }[] }[] }>(binaries, socketPath, "agent", "list");
    return (listed.agents ?? []).map((agent) => ({
        spiffeId: idOf(agent.id),
        attestationType: agent.attestation_type,
        selectors: (agent.selectors ?? []).map((selector) => `${selector.type}:${selector.value}`),
    }));
}

interface Service extends Meta {
    spec: { type: string; ports: { name?: string; port: number; nodePort?: number; targetPort?: number | string }[] };
}
interface EndpointSlice extends Meta {
    ports?: { name?: string; port?: number }[];
    endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[];
}
interface Node extends Meta {
    status: { addresses?: { type: string; address: string }[] };
}

/**
 * The port a Service's `port` reaches its ready endpoints at, as its EndpointSlices resolve the
 * target port (kube-proxy's translation); an error when no ready endpoint has one.
 */
export async function endpointPortOf(cluster: KubeAccess, namespace: string, name: string, port: number): Promise<number> {
    const service = await kubectlJson<Service>(cluster, "-n", namespace, "get", "service", name);
    const servicePort = service.spec.ports.find((candidate) => candidate.port === port);
    if (servicePort === undefined) throw new Error(`Service ${namespace}/${name} has no port ${port} (it has ${service.spec.ports.map((p) => p.port).join(", ")})`);
    const slices = await kubectlJson<List<EndpointSlice>>(cluster, "-n", namespace, "get", "endpointslices", "-l", `kubernetes.io/service-name=${name}`);
    const ready = slices.items.filter((slice) => slice.endpoints?.some((endpoint) => endpoint.conditions?.ready !== false));
    const resolved = ready.flatMap((slice) => slice.ports ?? []).find((candidate) => (candidate.name ?? "") === (servicePort.name ?? ""))?.port;
    if (resolved === undefined) throw new Error(`Service ${namespace}/${name}:${port}: no ready endpoint with a resolved port (targetPort ${String(servicePort.targetPort)})`);
    return resolved;
}

/**
 * kube-proxy's part for the bundle endpoint Service (the one labelled
 * `app.kubernetes.io/component=bundle-endpoint`): its node port on the node's InternalIP forwarded
 * to the server process, at the port the Service's EndpointSlice resolves its targetPort to (what
 * kube-proxy would send to the server pod). A Service aiming at the wrong port reaches nothing.
 */
export async function startBundleEndpointForwarder(cluster: LiveCluster): Promise<Forwarder & { service: string; nodePort: number; endpointPort: number }> {
    const services = await kubectlJson<List<Service>>(cluster, "get", "services", "--all-namespaces", "-l", "app.kubernetes.io/component=bundle-endpoint");
    if (services.items.length !== 1) throw new Error(`${services.items.length} bundle endpoint Services, want 1`);
    const [service] = services.items;
    const namespace = service.metadata.namespace ?? "";
    const nodePort = service.spec.ports[0]?.nodePort;
    if (service.spec.type !== "NodePort" || nodePort === undefined) throw new Error(`${namespace}/${service.metadata.name} is ${service.spec.type} without a node port; only NodePort has a stand-in here`);
    const slices = await kubectlJson<List<EndpointSlice>>(cluster, "-n", namespace, "get", "endpointslices", "-l", `kubernetes.io/service-name=${service.metadata.name}`);
    const ready = slices.items.filter((slice) => slice.endpoints?.some((endpoint) => endpoint.conditions?.ready !== false));
    const endpointPort = ready.flatMap((slice) => slice.ports ?? []).find((port) => port.name === (service.spec.ports[0].name ?? ""))?.port;
    if (endpointPort === undefined) throw new Error(`${namespace}/${service.metadata.name}: no ready endpoint with a resolved port (targetPort ${String(service.spec.ports[0].targetPort)}) in its EndpointSlices`);
    const nodes = await kubectlJson<List<Node>>(cluster, "get", "nodes");
    const nodeAddress = nodes.items.flatMap((node) => node.status.addresses ?? []).find((address) => address.type === "InternalIP")?.address;
    if (nodeAddress === undefined) throw new Error("no node with an InternalIP");
    const forwarder = await startForwarder({ address: nodeAddress, port: nodePort }, { address: cluster.address, port: endpointPort });
    return Object.assign(forwarder, { service: `${namespace}/${service.metadata.name}`, nodePort, endpointPort });
}

/** The cert-manager CertificateRequests for `issuerName` in `namespace`, with their Ready condition. */
export async function certificateRequests(cluster: KubeAccess, namespace: string, issuerName: string): Promise<{ name: string; ready: boolean; certificate?: string; issuerKind: string }[]> {
    const list = await kubectlJson<List<Meta & { spec: { issuerRef: { name: string; kind?: string } }; status?: { conditions?: Condition[]; certificate?: string } }>>(cluster, "-n", namespace, "get", "certificaterequests.cert-manager.io");
    return list.items
        .filter((request) => request.spec.issuerRef.name === issuerName)
        .map((request) => ({
            name: request.metadata.name,
            ready: request.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") ?? false,
            certificate: request.status?.certificate,
            issuerKind: request.spec.issuerRef.kind ?? "Issuer",
        }));
}
