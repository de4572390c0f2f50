/**
 * The SPIRE server's, agent's and controller manager's configuration as the chart rendered it into
 * their ConfigMaps, and the few changes a host process needs to run it. Nothing here writes a
 * configuration of its own: every value the program or the chart chose stays as rendered, and each
 * change is one named function below, listed with its reason in `serverRewrites`,
 * `agentRewrites` and `controllerManagerRewrites` (which e2e/README.md reproduces).
 *
 * The chart renders `server.conf` and `agent.conf` as JSON (its `reformat-and-yaml2json` helper;
 * JSON is valid HCL, which SPIRE reads), and the controller manager's config as YAML.
 */
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";

/** A JSON object as the rendered configs hold them. */
export type JsonObject = { [key: string]: unknown };

/** Where a cluster's SPIRE server runs on the host. */
export interface ServerHost {
    /** The cluster's loopback address (e.g. 127.0.0.2): every listener binds there, at the chart's ports. */
    address: string;
    /** The server's data directory on the host (replaces the container's volume). */
    dataDir: string;
    /** The server API's unix socket on the host. */
    socketPath: string;
    /** Kubeconfig of the cluster's API server, for the plugins that talk to it. */
    kubeconfig: string;
}

/** Where a node's SPIRE agent runs on the host. */
export interface AgentHost {
    /** The cluster's loopback address: the agent's health listener binds there, and its server listens there. */
    address: string;
    /**
     * The port the rendered server address's Service routes `server_port` to: its EndpointSlice's
     * port, where the server process listens (kube-proxy's translation, done by the test bed).
     */
    serverPort: number;
    /** The agent's data directory on the host. */
    dataDir: string;
    /** Directory standing in for the container's `/tmp/spire-agent`: the Workload API and admin sockets go there. */
    socketDir: string;
    /** The k8s_psat token the test bed requested for the agent's pod, with the server's audience (what the kubelet would project). */
    tokenPath: string;
    /** The agent pod's own service-account token (the API server's audience): what the kubelet mounts at /var/run/secrets/kubernetes.io/serviceaccount/token. */
    serviceAccountTokenPath: string;
    /** The server's bundle from the ConfigMap the chart mounts (written by the server's k8sbundle notifier). */
    trustBundlePath: string;
}

/** Where a cluster's controller manager runs on the host. */
export interface ControllerManagerHost {
    /** The cluster's loopback address: metrics and health listeners bind there, at the chart's ports. */
    address: string;
    /** The host SPIRE server's API socket. */
    serverSocketPath: string;
}

/** One change a host process needs, and why; `apply` returns what it changed (`key: old -> new`). */
export interface Rewrite<H> {
    name: string;
    why: string;
    apply(config: JsonObject, host: H): string[];
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Parses a rendered `server.conf` / `agent.conf`; refuses anything but a JSON object, naming what it got. */
export function parseRenderedConf(text: string, what: string): JsonObject {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch (error) {
        throw new Error(`${what} is not JSON (the chart renders it as JSON): ${(error as Error).message}`);
    }
    if (!isObject(parsed)) throw new Error(`${what} is not a JSON object`);
    return parsed;
}

/** Parses the rendered controller manager config (YAML). */
export function parseControllerManagerConfig(text: string): JsonObject {
    const parsed: unknown = parseYaml(text);
    if (!isObject(parsed) || parsed.kind !== "ControllerManagerConfig") throw new Error("controller manager config: not a ControllerManagerConfig document");
    return parsed;
}

function isObject(value: unknown): value is JsonObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `config[key]` as an object; created when absent if `create`, else an error naming the key. */
function section(config: JsonObject, key: string, create = false): JsonObject {
    const value = config[key];
    if (isObject(value)) return value;
    if (value === undefined && create) return (config[key] = {});
    throw new Error(`rendered config has no "${key}" section`);
}

/**
 * The plugins of one type (`DataStore`, `NodeAttestor`, ...) as `[name, plugin_data]` pairs. SPIRE
 * accepts a type's plugins as one object keyed by name, or as a list of one-key objects; the chart
 * renders the first, and both are read. A plugin whose `plugin_data` is empty (the chart renders
 * `null`) gets an object of its own only if `attach`, so that reading never changes a config.
 */
export function pluginsOf(config: JsonObject, type: string, attach = false): [string, JsonObject][] {
    const plugins = config.plugins;
    if (!isObject(plugins)) return [];
    const value = plugins[type];
    const entries = Array.isArray(value) ? value.filter(isObject) : isObject(value) ? [value] : [];
    const found: [string, JsonObject][] = [];
    for (const entry of entries) {
        for (const [name, body] of Object.entries(entry)) {
            if (!isObject(body)) continue;
            if (isObject(body.plugin_data)) found.push([name, body.plugin_data]);
            else if (attach) found.push([name, (body.plugin_data = {})]);
            else found.push([name, {}]);
        }
    }
    return found;
}

/** The one plugin `name` of `type`, or undefined. */
export function pluginData(config: JsonObject, type: string, name: string, attach = false): JsonObject | undefined {
    return pluginsOf(config, type, attach).find(([found]) => found === name)?.[1];
}

/**
 * k8s_psat's per-cluster settings on the server: `clusters` is a map of cluster name to settings,
 * which the chart renders as a list of one-key objects (HCL's block form); both are read.
 */
export function psatClusters(config: JsonObject): [string, JsonObject][] {
    const psat = pluginData(config, "NodeAttestor", "k8s_psat");
    const clusters = psat?.clusters;
    const entries = Array.isArray(clusters) ? clusters.filter(isObject) : isObject(clusters) ? [clusters] : [];
    return entries.flatMap((entry) => Object.entries(entry).filter((pair): pair is [string, JsonObject] => isObject(pair[1])));
}

/** Facts the live phases need from a rendered `server.conf`, read without changing it. */
export interface ServerFacts {
    trustDomain: string;
    serverPort: number;
    bundleEndpointPort: number;
    /** `federation.bundle_endpoint.refresh_hint` as rendered (a Go duration). */
    refreshHint: string;
    /** k8s_psat: cluster name -> the audiences and `namespace:serviceaccount` pairs it accepts. */
    psat: Record<string, { audience: string[]; serviceAccounts: string[] }>;
    /** Where the server publishes the bundle the agents' chart mounts: the k8s_configmap bundle publisher's ConfigMap (or the older k8sbundle notifier's). */
    bundleConfigMap?: { namespace: string; name: string; key: string; plugin: string };
    /** The cert-manager upstream authority's issuer and namespace. */
    certManager?: { issuerName: string; issuerKind: string; namespace: string };
}

export function serverFacts(config: JsonObject): ServerFacts {
    const server = section(config, "server");
    const endpoint = section(section(server, "federation"), "bundle_endpoint");
    const psat: ServerFacts["psat"] = {};
    for (const [cluster, settings] of psatClusters(config)) {
        const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : typeof value === "string" ? [value] : []);
        psat[cluster] = { audience: list(settings.audience), serviceAccounts: list(settings.service_account_allow_list) };
    }
    const notifier = pluginData(config, "Notifier", "k8sbundle");
    const publisherClusters = pluginData(config, "BundlePublisher", "k8s_configmap")?.clusters;
    // The publisher's entry for its own cluster is the one without a kubeconfig of another.
    const ownCluster = (Array.isArray(publisherClusters) ? publisherClusters : [publisherClusters])
        .filter(isObject)
        .flatMap((entry) => Object.values(entry).filter(isObject))
        .find((settings) => settings.kubeconfig_path === undefined);
    const certManager = pluginData(config, "UpstreamAuthority", "cert-manager");
    return {
        trustDomain: String(server.trust_domain),
        serverPort: Number(server.bind_port ?? 8081),
        bundleEndpointPort: Number(endpoint.port ?? 443),
        refreshHint: String(endpoint.refresh_hint ?? "5m"),
        psat,
        // SPIRE's defaults when the chart leaves them out: namespace spire, ConfigMap spire-bundle, key bundle.crt.
        ...(ownCluster
            ? { bundleConfigMap: { namespace: String(ownCluster.namespace), name: String(ownCluster.configmap_name), key: String(ownCluster.configmap_key), plugin: "BundlePublisher k8s_configmap" } }
            : notifier
              ? { bundleConfigMap: { namespace: String(notifier.namespace ?? "spire"), name: String(notifier.config_map ?? "spire-bundle"), key: String(notifier.config_map_key ?? "bundle.crt"), plugin: "Notifier k8sbundle" } }
              : {}),
        ...(certManager ? { certManager: { issuerName: String(certManager.issuer_name), issuerKind: String(certManager.issuer_kind ?? "Issuer"), namespace: String(certManager.namespace) } } : {}),
    };
}

// ---------------------------------------------------------------------------------------------
// Rewrites: the server

/** Sets `obj[key]` when it differs, recording `label: old -> new`. */
function set(changes: string[], obj: JsonObject, key: string, value: unknown, label: string): void {
    if (obj[key] === value) return;
    changes.push(`${label}: ${JSON.stringify(obj[key])} -> ${JSON.stringify(value)}`);
    obj[key] = value;
}

/**
 * Every listener of the server on the cluster's loopback address instead of 0.0.0.0, at the
 * rendered ports: clusters share one host, and each cluster's processes (like its API server)
 * listen on its own address, so the chart's ports need no change.
 */
export function serverListenersOnClusterAddress(config: JsonObject, host: ServerHost): string[] {
    const changes: string[] = [];
    const server = section(config, "server");
    set(changes, server, "bind_address", host.address, "server.bind_address");
    const federation = server.federation;
    if (isObject(federation) && isObject(federation.bundle_endpoint)) set(changes, federation.bundle_endpoint, "address", host.address, "server.federation.bundle_endpoint.address");
    changes.push(...healthAndTelemetryOnAddress(config, host.address));
    return changes;
}

/** health_checks and Prometheus telemetry listeners on `address` (shared by server and agent). */
function healthAndTelemetryOnAddress(config: JsonObject, address: string): string[] {
    const changes: string[] = [];
    if (isObject(config.health_checks)) set(changes, config.health_checks, "bind_address", address, "health_checks.bind_address");
    const telemetry = config.telemetry;
    const blocks = Array.isArray(telemetry) ? telemetry : isObject(telemetry) ? [telemetry] : [];
    for (const block of blocks.filter(isObject)) {
        const prometheus = block.Prometheus;
        for (const listener of (Array.isArray(prometheus) ? prometheus : [prometheus]).filter(isObject)) set(changes, listener, "host", address, "telemetry.Prometheus.host");
    }
    return changes;
}

/**
 * Every string under `from` (the container's data volume) moved under `to`, wherever it occurs:
 * `data_dir`, the sqlite datastore's file, the disk key manager's key file. The container's paths
 * are neither writable nor per cluster on a shared host.
 */
export function relocatePaths(config: JsonObject, from: string, to: string, label = ""): string[] {
    const changes: string[] = [];
    const prefix = from.replace(/\/+$/, "");
    const under = (value: unknown): value is string => typeof value === "string" && (value === prefix || value.startsWith(`${prefix}/`));
    const walk = (node: unknown, at: string): void => {
        if (Array.isArray(node)) {
            node.forEach((item, i) => {
                if (!under(item)) return walk(item, `${at}[${i}]`);
                changes.push(`${at}[${i}]: ${JSON.stringify(item)} -> ${JSON.stringify(to + item.slice(prefix.length))}`);
                node[i] = to + item.slice(prefix.length);
            });
        } else if (isObject(node)) {
            for (const [key, value] of Object.entries(node)) {
                const here = at ? `${at}.${key}` : key;
                if (under(value)) set(changes, node, key, to + value.slice(prefix.length), here);
                else walk(value, here);
            }
        }
    };
    walk(config, label);
    return changes;
}

/** The server's data (`server.data_dir` as rendered, and every path under it) in the host's data directory. */
export function serverDataOnHost(config: JsonObject, host: ServerHost): string[] {
    const rendered = section(config, "server").data_dir;
    if (typeof rendered !== "string") throw new Error("rendered server.conf has no server.data_dir");
    return relocatePaths(config, rendered, host.dataDir);
}

/**
 * The server API socket at a host path: the chart leaves SPIRE's default
 * (/tmp/spire-server/private/api.sock), which every cluster's server on one host would share.
 */
export function serverSocketOnHost(config: JsonObject, host: ServerHost): string[] {
    const changes: string[] = [];
    set(changes, section(config, "server"), "socket_path", host.socketPath, "server.socket_path");
    return changes;
}

/**
 * A kubeconfig for each plugin that talks to the API server: the k8s_psat node attestor (its
 * TokenReview and pod and node reads), the cert-manager upstream authority (CertificateRequests),
 * the k8sbundle notifier and the k8s_configmap bundle publisher (ConfigMaps). In a pod they use
 * the pod's service account; a host process has none. A plugin naming a kubeconfig of its own
 * (another cluster's) keeps it.
 */
export function apiServerPluginsKubeconfig(config: JsonObject, host: ServerHost): string[] {
    const changes: string[] = [];
    for (const [cluster, settings] of psatClusters(config)) {
        if (settings.kube_config_file === undefined) set(changes, settings, "kube_config_file", host.kubeconfig, `NodeAttestor.k8s_psat.clusters.${cluster}.kube_config_file`);
    }
    const certManager = pluginData(config, "UpstreamAuthority", "cert-manager", true);
    if (certManager && !certManager.kube_config_file) set(changes, certManager, "kube_config_file", host.kubeconfig, "UpstreamAuthority.cert-manager.kube_config_file");
    const notifier = pluginData(config, "Notifier", "k8sbundle", true);
    if (notifier && notifier.namespace !== undefined && !notifier.kube_config_file_path) set(changes, notifier, "kube_config_file_path", host.kubeconfig, "Notifier.k8sbundle.kube_config_file_path");
    const publisher = pluginData(config, "BundlePublisher", "k8s_configmap", true);
    const clusters = publisher?.clusters;
    for (const entry of (Array.isArray(clusters) ? clusters : [clusters]).filter(isObject)) {
        for (const [name, settings] of Object.entries(entry)) {
            if (isObject(settings) && !settings.kubeconfig_path) set(changes, settings, "kubeconfig_path", host.kubeconfig, `BundlePublisher.k8s_configmap.clusters.${name}.kubeconfig_path`);
        }
    }
    return changes;
}

export const serverRewrites: Rewrite<ServerHost>[] = [
    { name: "serverListenersOnClusterAddress", why: "server API, bundle endpoint, health and metrics listeners on the cluster's loopback address, not 0.0.0.0: clusters share one host, each on its own address, so the chart's ports stay", apply: serverListenersOnClusterAddress },
    { name: "serverDataOnHost", why: "data_dir and every path under it (sqlite datastore, disk key manager) in a host directory: the container's volume is not there", apply: serverDataOnHost },
    { name: "serverSocketOnHost", why: "the server API socket at a host path: SPIRE's default /tmp/spire-server/private/api.sock would be shared by every cluster's server", apply: serverSocketOnHost },
    { name: "apiServerPluginsKubeconfig", why: "kube_config_file (k8s_psat, cert-manager), kube_config_file_path (k8sbundle), kubeconfig_path (k8s_configmap): a host process has no in-cluster service account", apply: apiServerPluginsKubeconfig },
];

/** The rendered server.conf with every server rewrite applied, and what each changed. */
export function hostServerConf(rendered: JsonObject, host: ServerHost): { config: JsonObject; changes: Record<string, string[]> } {
    return applyAll(rendered, host, serverRewrites);
}

function applyAll<H>(rendered: JsonObject, host: H, rewrites: Rewrite<H>[]): { config: JsonObject; changes: Record<string, string[]> } {
    const config = structuredClone(rendered);
    const changes: Record<string, string[]> = {};
    for (const rewrite of rewrites) changes[rewrite.name] = rewrite.apply(config, host);
    return { config, changes };
}

// ---------------------------------------------------------------------------------------------
// Rewrites: the agent

/**
 * The server's Service address and port replaced by where the Service routes them: the chart
 * names the server's Service (`spire-server.<namespace>`, port 443), which the host cannot
 * resolve and no kube-proxy routes; the server process listens on the cluster's address at the
 * port the Service's EndpointSlice gives (its named target port), which the test bed looks up.
 */
export function agentServerOnClusterAddress(config: JsonObject, host: AgentHost): string[] {
    const changes: string[] = [];
    const agent = section(config, "agent");
    set(changes, agent, "server_address", host.address, "agent.server_address");
    // The chart writes the port as a string; SPIRE reads either.
    if (String(agent.server_port) !== String(host.serverPort)) set(changes, agent, "server_port", String(host.serverPort), "agent.server_port");
    return changes;
}

/** The Service a rendered `server_address` names (`name.namespace[.svc...]`), or undefined for an address that names none. */
export function serviceOfAddress(address: string): { name: string; namespace: string } | undefined {
    const match = /^([a-z0-9-]+)\.([a-z0-9-]+)(\.svc(\..*)?)?$/.exec(address);
    return match ? { name: match[1], namespace: match[2] } : undefined;
}

/** The agent's health and metrics listeners on the cluster's loopback address instead of 0.0.0.0. */
export function agentListenersOnClusterAddress(config: JsonObject, host: AgentHost): string[] {
    return healthAndTelemetryOnAddress(config, host.address);
}

/**
 * The agent's data and sockets in host directories: `data_dir` and paths under it (disk key
 * manager), and the Workload API and admin sockets, which the chart puts under
 * /tmp/spire-agent (a hostPath shared with the CSI driver) and which would collide across agents.
 */
export function agentPathsOnHost(config: JsonObject, host: AgentHost): string[] {
    const agent = section(config, "agent");
    const rendered = agent.data_dir;
    if (typeof rendered !== "string") throw new Error("rendered agent.conf has no agent.data_dir");
    const changes = relocatePaths(config, rendered, host.dataDir);
    changes.push(...relocatePaths(agent, "/tmp/spire-agent", host.socketDir, "agent"));
    return changes;
}

/**
 * The trust bundle from the file the test bed wrote from the ConfigMap the chart mounts at
 * /run/spire/bundle (the server's k8sbundle notifier fills it): the agent's bootstrap trust.
 */
export function agentTrustBundleOnHost(config: JsonObject, host: AgentHost): string[] {
    const changes: string[] = [];
    const agent = section(config, "agent");
    if (agent.trust_bundle_url !== undefined) throw new Error("rendered agent.conf fetches its trust bundle from a URL; the test bed only stands in for the mounted bundle ConfigMap");
    set(changes, agent, "trust_bundle_path", host.trustBundlePath, "agent.trust_bundle_path");
    return changes;
}

/**
 * k8s_psat's token from the file where the test bed put the token it requested for the agent's
 * pod; in a pod the kubelet projects it at /var/run/secrets/tokens/spire-agent (the plugin's default).
 */
export function agentPsatToken(config: JsonObject, host: AgentHost): string[] {
    const changes: string[] = [];
    const psat = pluginData(config, "NodeAttestor", "k8s_psat", true);
    if (psat === undefined) throw new Error("rendered agent.conf has no k8s_psat node attestor");
    set(changes, psat, "token_path", host.tokenPath, "NodeAttestor.k8s_psat.token_path");
    return changes;
}

/**
 * The k8s workload attestor's `token_path`, when it authenticates to the kubelet with a token
 * (the chart's setting): the agent pod's own service-account token, which the kubelet mounts at
 * /var/run/secrets/kubernetes.io/serviceaccount/token and the plugin loads when it is configured
 * (the agent refuses to start without it, spire v1.15.2 pkg/agent/plugin/workloadattestor/k8s/k8s.go:1467).
 */
export function agentK8sAttestorToken(config: JsonObject, host: AgentHost): string[] {
    const changes: string[] = [];
    const k8s = pluginData(config, "WorkloadAttestor", "k8s", true);
    if (k8s === undefined || k8s.use_anonymous_authentication === true || k8s.certificate_path !== undefined || k8s.token_path !== undefined) return changes;
    set(changes, k8s, "token_path", host.serviceAccountTokenPath, "WorkloadAttestor.k8s.token_path");
    return changes;
}

/**
 * The `unix` workload attestor added, when the chart did not enable it: without a kubelet the
 * `k8s` attestor cannot attest anything, so the test bed's own probe workload (a host process) is
 * registered by unix selectors. The chart's attestors stay as rendered.
 */
export function agentUnixWorkloadAttestor(config: JsonObject): string[] {
    if (pluginData(config, "WorkloadAttestor", "unix") !== undefined) return [];
    const plugins = section(config, "plugins");
    const attestors = plugins.WorkloadAttestor;
    if (Array.isArray(attestors)) attestors.push({ unix: { plugin_data: {} } });
    else section(plugins, "WorkloadAttestor", true).unix = { plugin_data: {} };
    return ["WorkloadAttestor.unix: added"];
}

export const agentRewrites: Rewrite<AgentHost>[] = [
    { name: "agentServerOnClusterAddress", why: "server_address and server_port: the chart names the server's Service (spire-server.<namespace>:443), which does not resolve on the host and no kube-proxy routes; the cluster's loopback address and the port the Service's EndpointSlice resolves (the server's 8081) instead", apply: agentServerOnClusterAddress },
    { name: "agentListenersOnClusterAddress", why: "health and metrics listeners on the cluster's loopback address, not 0.0.0.0 (clusters share the host)", apply: agentListenersOnClusterAddress },
    { name: "agentPathsOnHost", why: "data_dir (and paths under it) and the Workload API/admin sockets (under /tmp/spire-agent in the pod) in host directories of this agent's own", apply: agentPathsOnHost },
    { name: "agentTrustBundleOnHost", why: "trust_bundle_path: a file the test bed writes from the bundle ConfigMap the chart mounts (the one the server's k8sbundle notifier writes)", apply: agentTrustBundleOnHost },
    { name: "agentPsatToken", why: "k8s_psat token_path: the token the test bed requests for the agent's own pod, which a kubelet would project", apply: agentPsatToken },
    { name: "agentK8sAttestorToken", why: "the k8s workload attestor's token_path: the agent pod's own service-account token, which the kubelet mounts in the pod and the plugin loads at start", apply: agentK8sAttestorToken },
    { name: "agentUnixWorkloadAttestor", why: "the unix workload attestor added (if absent) for the test bed's probe workload: with no kubelet the k8s attestor attests nothing", apply: agentUnixWorkloadAttestor },
];

/** The rendered agent.conf with every agent rewrite applied, and what each changed. */
export function hostAgentConf(rendered: JsonObject, host: AgentHost): { config: JsonObject; changes: Record<string, string[]> } {
    return applyAll(rendered, host, agentRewrites);
}

// ---------------------------------------------------------------------------------------------
// Rewrites: the controller manager

/** `0.0.0.0:8082` -> `<address>:8082`: the host part replaced, the port kept. */
export function onAddress(bind: string, address: string): string {
    const at = bind.lastIndexOf(":");
    if (at < 0) throw new Error(`bind address ${JSON.stringify(bind)} has no port`);
    return `${address}${bind.slice(at)}`;
}

/** Metrics and health listeners on the cluster's loopback address, at the rendered ports. */
export function controllerManagerListenersOnClusterAddress(config: JsonObject, host: ControllerManagerHost): string[] {
    const changes: string[] = [];
    if (isObject(config.metrics) && typeof config.metrics.bindAddress === "string") set(changes, config.metrics, "bindAddress", onAddress(config.metrics.bindAddress, host.address), "metrics.bindAddress");
    if (isObject(config.health) && typeof config.health.healthProbeBindAddress === "string") set(changes, config.health, "healthProbeBindAddress", onAddress(config.health.healthProbeBindAddress, host.address), "health.healthProbeBindAddress");
    return changes;
}

/** The host server's API socket instead of the pod's shared mount (/tmp/spire-server/private/api.sock). */
export function controllerManagerServerSocket(config: JsonObject, host: ControllerManagerHost): string[] {
    const changes: string[] = [];
    set(changes, config, "spireServerSocketPath", host.serverSocketPath, "spireServerSocketPath");
    return changes;
}

/**
 * `clusterDomain: cluster.local` when the chart leaves it out: the controller manager otherwise
 * detects it from a DNS lookup of kubernetes.default.svc, which only a pod's resolver answers.
 * cluster.local is the domain e2e/cluster.sh's API server names in its service-account issuer.
 */
export function controllerManagerClusterDomain(config: JsonObject): string[] {
    const changes: string[] = [];
    if (config.clusterDomain === undefined) set(changes, config, "clusterDomain", "cluster.local", "clusterDomain");
    return changes;
}

export const controllerManagerRewrites: Rewrite<ControllerManagerHost>[] = [
    { name: "controllerManagerListenersOnClusterAddress", why: "metrics and health listeners on the cluster's loopback address (ports as rendered)", apply: controllerManagerListenersOnClusterAddress },
    { name: "controllerManagerServerSocket", why: "spireServerSocketPath: the host server's socket, not the pod's shared mount", apply: controllerManagerServerSocket },
    { name: "controllerManagerClusterDomain", why: "clusterDomain cluster.local if unset: autodetection is a DNS lookup of kubernetes.default.svc that only a pod's resolver answers", apply: controllerManagerClusterDomain },
];

/** The rendered controller manager config with every rewrite applied, as YAML, and what each changed. */
export function hostControllerManagerConfig(renderedYaml: string, host: ControllerManagerHost): { yaml: string; config: JsonObject; changes: Record<string, string[]> } {
    const { config, changes } = applyAll(parseControllerManagerConfig(renderedYaml), host, controllerManagerRewrites);
    return { yaml: stringifyYaml(config), config, changes };
}

/**
 * What the controller manager's process gets besides its config file, and why: the environment a
 * host process needs in place of the pod's.
 */
export function controllerManagerEnvironment(kubeconfig: string): { env: Record<string, string>; why: Record<string, string> } {
    return {
        env: { KUBECONFIG: kubeconfig, ENABLE_WEBHOOKS: "false" },
        why: {
            KUBECONFIG: "the API server of the cluster, in place of the pod's in-cluster config (controller-runtime reads it)",
            ENABLE_WEBHOOKS: "false: the validating webhook needs the in-cluster config and a Service the API server calls back; e2e/cluster.sh runs the API server with admission webhooks off",
        },
    };
}
