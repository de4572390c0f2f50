/**
 * What a running istiod must report, judged from its own debug endpoints against what each
 * peer's API server holds, never against the program's code. Pure: the JSON of istiod's
 * endpoints and of the API servers comes in, a list of problems (empty when all is well) goes
 * out. The JSON shapes are istio 1.30.3's: pkg/cluster/debug.go (`/debug/clusterz`),
 * pilot/pkg/model/service.go (`/debug/registryz`: model.Service), pilot/pkg/model/endpointshards.go
 * (`/debug/endpointShardz`: hostname -> namespace -> shards keyed `Kubernetes/<cluster>`),
 * pilot/pkg/model/network.go (`/debug/networkz`: model.NetworkGateway).
 */
import { X509Certificate } from "node:crypto";

/** One entry of `/debug/clusterz` (cluster.DebugInfo). */
export interface ClusterzEntry {
    id: string;
    secretName?: string;
    syncStatus: string;
}

/** One service of `/debug/registryz` (the fields read here). */
export interface RegistryService {
    hostname: string;
    clusterVIPs?: { Addresses?: Record<string, string[]> };
    Attributes: { Name: string; Namespace: string; ServiceRegistry?: string };
}

/** One endpoint of a shard of `/debug/endpointShardz` (the fields read here). */
export interface ShardEndpoint {
    Addresses?: string[];
    Network?: string;
    Locality?: { ClusterID?: string };
}

/** `/debug/endpointShardz`: hostname -> namespace -> shards keyed `<provider>/<cluster>`. */
export type EndpointShardz = Record<string, Record<string, { Shards?: Record<string, ShardEndpoint[] | null> }>>;

/** One gateway of `/debug/networkz` (model.NetworkGateway). */
export interface NetworkGateway {
    Network: string;
    Cluster: string;
    Addr: string;
    Port: number;
}

/** A Service of a peer as its own API server holds it, with the ready addresses of its EndpointSlices. */
export interface PeerService {
    name: string;
    namespace: string;
    clusterIPs: string[];
    readyAddresses: string[];
}

/**
 * `/debug/clusterz` of the istiod of cluster `own`: its own cluster and every peer listed, each
 * `synced`; a peer comes from a remote secret (`secretName` set). Another status (`syncing`,
 * `timeout`: istio 1.30.3 pkg/kube/multicluster/cluster.go:148-153) is a problem, named, except
 * a `timeout` the caller accepts for that peer (`acceptedTimeouts`: peer -> why).
 */
export function clusterzProblems(entries: ClusterzEntry[], own: string, peers: string[], acceptedTimeouts: Record<string, string> = {}): string[] {
    const problems: string[] = [];
    const byId = new Map(entries.map((entry) => [entry.id, entry]));
    const self = byId.get(own);
    if (self === undefined) problems.push(`its own cluster ${own} is not listed`);
    else if (self.syncStatus !== "synced") problems.push(`its own cluster ${own} is ${self.syncStatus}`);
    for (const peer of peers) {
        const entry = byId.get(peer);
        if (entry === undefined) problems.push(`peer ${peer} is not listed (no remote secret read for it)`);
        else if (entry.syncStatus === "timeout" && acceptedTimeouts[peer] !== undefined) continue;
        else if (entry.syncStatus !== "synced") problems.push(`peer ${peer} is ${entry.syncStatus} (remote secret ${entry.secretName ?? "?"})`);
        else if (!entry.secretName) problems.push(`peer ${peer} is listed without a remote secret`);
    }
    const unexpected = entries.filter((entry) => entry.id !== own && !peers.includes(entry.id)).map((entry) => `${entry.id} (${entry.syncStatus})`);
    if (unexpected.length > 0) problems.push(`clusters that are no peer: ${unexpected.join(", ")}`);
    return problems;
}

/** Every peer service in istiod's registry under its hostname, with the peer's cluster ID mapped to the peer's ClusterIP. */
export function registryProblems(services: RegistryService[], peer: string, expected: PeerService[], domainSuffix = "cluster.local"): string[] {
    const problems: string[] = [];
    const byHost = new Map(services.map((service) => [service.hostname, service]));
    for (const want of expected) {
        const hostname = `${want.name}.${want.namespace}.svc.${domainSuffix}`;
        const found = byHost.get(hostname);
        if (found === undefined) {
            problems.push(`${hostname} of ${peer} is not in the registry`);
            continue;
        }
        const vips = found.clusterVIPs?.Addresses?.[peer];
        if (vips === undefined) problems.push(`${hostname}: no address for cluster ${peer} (has ${Object.keys(found.clusterVIPs?.Addresses ?? {}).join(", ") || "none"})`);
        else if (want.clusterIPs.length > 0 && !want.clusterIPs.every((ip) => vips.includes(ip))) problems.push(`${hostname}: cluster ${peer} address ${vips.join(",")}, the peer's Service has ${want.clusterIPs.join(",")}`);
    }
    return problems;
}

/**
 * Every ready address of each peer service in the peer's shard (`Kubernetes/<peer>`) of istiod's
 * endpoint index, each endpoint on the peer's network: what lets proxies reach it through the
 * peer's gateway.
 */
export function endpointProblems(shardz: EndpointShardz, peer: string, peerNetwork: string, expected: PeerService[], domainSuffix = "cluster.local"): string[] {
    const problems: string[] = [];
    for (const want of expected) {
        if (want.readyAddresses.length === 0) continue;
        const hostname = `${want.name}.${want.namespace}.svc.${domainSuffix}`;
        const shard = shardz[hostname]?.[want.namespace]?.Shards?.[`Kubernetes/${peer}`] ?? [];
        const addresses = new Set(shard.flatMap((endpoint) => endpoint.Addresses ?? []));
        const missing = want.readyAddresses.filter((address) => !addresses.has(address));
        if (missing.length > 0) problems.push(`${hostname}: ${peer}'s endpoints ${missing.join(", ")} missing from its shard (has ${[...addresses].join(", ") || "none"})`);
        const offNetwork = shard.filter((endpoint) => endpoint.Network !== peerNetwork).map((endpoint) => `${(endpoint.Addresses ?? []).join(",")} on ${JSON.stringify(endpoint.Network ?? "")}`);
        if (offNetwork.length > 0) problems.push(`${hostname}: ${peer}'s endpoints not on network ${peerNetwork}: ${offNetwork.join("; ")}`);
    }
    return problems;
}

/** A peer network's gateway as the peer's API server shows it: node address and node port of its 15443 port. */
export interface ExpectedGateway {
    network: string;
    address: string;
    port: number;
}

/** `/debug/networkz` holds each peer network's gateway at the expected address and port, and no other gateway for that network. */
export function gatewayProblems(gateways: NetworkGateway[], expected: ExpectedGateway[]): string[] {
    const problems: string[] = [];
    for (const want of expected) {
        const ofNetwork = gateways.filter((gateway) => gateway.Network === want.network);
        if (ofNetwork.length === 0) {
            problems.push(`no gateway for network ${want.network} (gateways: ${gateways.map((g) => `${g.Network}=${g.Addr}:${g.Port}`).join(", ") || "none"})`);
            continue;
        }
        const wrong = ofNetwork.filter((gateway) => gateway.Addr !== want.address || gateway.Port !== want.port);
        if (wrong.length > 0) problems.push(`network ${want.network}: gateway ${wrong.map((g) => `${g.Addr}:${g.Port}`).join(", ")}, the peer's node and node port are ${want.address}:${want.port}`);
    }
    return problems;
}

/** The PEM certificates in a text, as DER base64 (to compare certificates, not their text). */
export function certificatesOf(pem: string): X509Certificate[] {
    return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((block) => new X509Certificate(block));
}

/** The root istiod distributes (`root-cert.pem` of the ConfigMap it writes) is exactly the domain's root, and nothing else. */
export function caRootProblems(distributedPem: string | undefined, domainRootPem: string, where: string): string[] {
    if (distributedPem === undefined) return [`${where}: no root-cert.pem (istiod has not written it)`];
    const distributed = certificatesOf(distributedPem);
    const [root] = certificatesOf(domainRootPem);
    if (root === undefined) return [`the domain root given is no PEM certificate`];
    if (distributed.length !== 1) return [`${where}: ${distributed.length} certificates, want the domain root alone`];
    if (!distributed[0].raw.equals(root.raw)) {
        return [`${where}: ${distributed[0].subject.replace(/\n/g, ", ")} (sha256 ${distributed[0].fingerprint256}), not the domain root ${root.subject.replace(/\n/g, ", ")} (sha256 ${root.fingerprint256})`];
    }
    return [];
}

/** The mesh config istiod runs with (`/debug/mesh`, protojson names; the fields read here). */
export interface ActiveMeshConfig {
    trustDomain?: string;
    trustDomainAliases?: string[];
    rootNamespace?: string;
}

/** istiod runs with the domain's trust domain: the program's mesh config was read and accepted. */
export function meshProblems(mesh: ActiveMeshConfig, trustDomain: string): string[] {
    return mesh.trustDomain === trustDomain ? [] : [`istiod's trust domain is ${JSON.stringify(mesh.trustDomain ?? "")} (default cluster.local when the mesh config was not read), want ${trustDomain}`];
}

/** istiod's log lines at level error (its format: time, tab, level, tab, message). */
export function errorLines(log: string): string[] {
    return log.split("\n").filter((line) => /^\S+\terror\t/.test(line));
}

/**
 * Whether a peer's `timeout` is what the program chose: istiod refused nothing for that peer's
 * credential but `accepted` resources (the reason, else undefined). Nothing refused is no reason:
 * a timeout then has another cause (an unreachable API server).
 */
export function acceptedTimeout(refused: string[], accepted: string[]): string | undefined {
    if (refused.length === 0 || !refused.every((resource) => accepted.includes(resource))) return undefined;
    return `istiod's only refused reads are ${refused.join(", ")}`;
}
