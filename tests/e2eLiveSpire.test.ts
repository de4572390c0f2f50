/**
 * The live SPIRE layer's pure parts (e2e/live/): the rewrites a host process needs, applied to the
 * configs the real chart rendered from the program's values on the test bed (captured from a run,
 * tests/fixtures/e2e-live/README.md says which), and the kube-proxy stand-in. What a rewrite may
 * change is listed here by hand, path by path, from reading the fixture: every other value of the
 * rendered config must reach the process unchanged.
 */
import { readFileSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bundleKeys, peerBundleState, spiffeBundleAuthorities } from "../e2e/live/checks";
import { startForwarder } from "../e2e/live/forwarder";
import {
    hostAgentConf,
    hostControllerManagerConfig,
    hostServerConf,
    JsonObject,
    onAddress,
    parseControllerManagerConfig,
    parseRenderedConf,
    pluginsOf,
    relocatePaths,
    serverFacts,
    serviceOfAddress,
} from "../e2e/live/spireConfig";

const fixtures = join(__dirname, "fixtures", "e2e-live");
const read = (name: string) => readFileSync(join(fixtures, name), "utf8");
const renderedServer = parseRenderedConf(read("server.conf"), "server.conf");
const renderedAgent = parseRenderedConf(read("agent.conf"), "agent.conf");
const renderedManager = read("controller-manager-config.yaml");

/** Every leaf of a JSON document as `path -> value`, arrays indexed: what a diff compares. */
function leaves(node: unknown, at = "", out = new Map<string, unknown>()): Map<string, unknown> {
    if (Array.isArray(node)) node.forEach((item, i) => leaves(item, `${at}[${i}]`, out));
    else if (typeof node === "object" && node !== null) {
        const entries = Object.entries(node);
        if (entries.length === 0) out.set(at, "{}");
        for (const [key, value] of entries) leaves(value, at ? `${at}.${key}` : key, out);
    } else out.set(at, node);
    return out;
}

/** The leaf paths whose value differs (or that exist on one side only). */
function changedPaths(before: unknown, after: unknown): string[] {
    const [a, b] = [leaves(before), leaves(after)];
    return [...new Set([...a.keys(), ...b.keys()])].filter((key) => a.get(key) !== b.get(key)).sort();
}

const serverHost = { address: "127.0.0.2", dataDir: "/w/server/data", socketPath: "/w/server/api.sock", kubeconfig: "/w/server/pod.kubeconfig" };
const agentHost = { address: "127.0.0.2", serverPort: 8081, dataDir: "/w/agent/data", socketDir: "/w/agent/s", tokenPath: "/w/agent/token", serviceAccountTokenPath: "/w/agent/sa-token", trustBundlePath: "/w/agent/bundle.crt" };

describe("the rendered server.conf (spire chart 0.30.0, the program's values, foo.com)", () => {
    const { config, changes } = hostServerConf(renderedServer, serverHost);

    it("changes exactly the listeners, data paths, socket and API-server kubeconfigs", () => {
        expect(changedPaths(renderedServer, config)).toEqual(
            [
                "health_checks.bind_address",
                "plugins.BundlePublisher[0].k8s_configmap.plugin_data.clusters[0].chart-internal.kubeconfig_path",
                "plugins.DataStore[0].sql.plugin_data.connection_string",
                "plugins.KeyManager[0].disk.plugin_data.keys_path",
                "plugins.NodeAttestor[0].k8s_psat.plugin_data.clusters[0].cluster-1.kube_config_file",
                "plugins.UpstreamAuthority[0].cert-manager.plugin_data.kube_config_file",
                "server.bind_address",
                "server.data_dir",
                "server.federation.bundle_endpoint.address",
                "server.socket_path",
            ].sort(),
        );
    });

    it("puts the listeners on the cluster's address at the chart's ports", () => {
        const server = config.server as JsonObject;
        expect(server.bind_address).toBe("127.0.0.2");
        expect(server.bind_port).toBe("8081");
        expect((server.federation as { bundle_endpoint: JsonObject }).bundle_endpoint).toMatchObject({ address: "127.0.0.2", port: 8443 });
        expect(config.health_checks).toMatchObject({ bind_address: "127.0.0.2", bind_port: "8080" });
    });

    it("moves the sqlite file and the key file under the host data directory", () => {
        expect((config.server as JsonObject).data_dir).toBe("/w/server/data");
        expect(pluginsOf(config, "DataStore")[0][1].connection_string).toBe("/w/server/data/datastore.sqlite3");
        expect(pluginsOf(config, "KeyManager")[0][1].keys_path).toBe("/w/server/data/keys.json");
    });

    it("gives k8s_psat, cert-manager and the k8s_configmap publisher the pod's kubeconfig", () => {
        expect(pluginsOf(config, "UpstreamAuthority")[0]).toEqual(["cert-manager", expect.objectContaining({ kube_config_file: serverHost.kubeconfig, issuer_name: "cluster-1-root-ca", namespace: "spire-server" })]);
        expect(pluginsOf(config, "BundlePublisher")[0][1].clusters).toEqual([{ "chart-internal": expect.objectContaining({ kubeconfig_path: serverHost.kubeconfig, configmap_name: "spire-bundle" }) }]);
        expect(pluginsOf(config, "NodeAttestor")[0][1].clusters).toEqual([{ "cluster-1": expect.objectContaining({ kube_config_file: serverHost.kubeconfig, audience: ["spire-server"] }) }]);
    });

    it("records each change as `key: old -> new`", () => {
        expect(changes.serverListenersOnClusterAddress).toContain('server.bind_address: "0.0.0.0" -> "127.0.0.2"');
        expect(changes.serverSocketOnHost).toEqual(['server.socket_path: undefined -> "/w/server/api.sock"']);
    });

    it("leaves the rendered config itself untouched", () => {
        expect((renderedServer.server as JsonObject).bind_address).toBe("0.0.0.0");
    });

    it("reads what the live phases need: trust domain, ports, refresh hint, psat, bundle ConfigMap, issuer", () => {
        expect(serverFacts(renderedServer)).toEqual({
            trustDomain: "foo.com",
            serverPort: 8081,
            bundleEndpointPort: 8443,
            refreshHint: "300s",
            psat: { "cluster-1": { audience: ["spire-server"], serviceAccounts: ["spire-server:spire-agent"] } },
            bundleConfigMap: { namespace: "spire-server", name: "spire-bundle", key: "bundle.spiffe", plugin: "BundlePublisher k8s_configmap" },
            certManager: { issuerName: "cluster-1-root-ca", issuerKind: "Issuer", namespace: "spire-server" },
        });
    });
});

describe("the rendered agent.conf", () => {
    const { config } = hostAgentConf(renderedAgent, agentHost);

    it("changes exactly the server address, listeners, paths, trust bundle and token, and adds the unix attestor", () => {
        expect(changedPaths(renderedAgent, config)).toEqual(
            [
                "agent.data_dir",
                "agent.server_address",
                "agent.server_port",
                "agent.socket_path",
                "agent.trust_bundle_path",
                "health_checks.bind_address",
                "plugins.NodeAttestor[0].k8s_psat.plugin_data.token_path",
                "plugins.WorkloadAttestor[0].k8s.plugin_data.token_path",
                "plugins.WorkloadAttestor[1].unix.plugin_data",
            ].sort(),
        );
    });

    it("talks to the server where its Service routes (spire-server.spire-server:443 -> the cluster's address, endpoint port 8081)", () => {
        expect(renderedAgent.agent).toMatchObject({ server_address: "spire-server.spire-server", server_port: "443" });
        expect(config.agent).toMatchObject({ server_address: "127.0.0.2", server_port: "8081", trust_domain: "foo.com", socket_path: "/w/agent/s/public/spire-agent.sock", trust_bundle_path: "/w/agent/bundle.crt" });
        expect(serviceOfAddress("spire-server.spire-server")).toEqual({ name: "spire-server", namespace: "spire-server" });
        expect(serviceOfAddress("127.0.0.2")).toBeUndefined();
    });

    it("gives k8s_psat the requested token and the k8s attestor the pod's service-account token", () => {
        expect(pluginsOf(config, "NodeAttestor")).toEqual([["k8s_psat", { cluster: "cluster-1", token_path: "/w/agent/token" }]]);
        expect(pluginsOf(config, "WorkloadAttestor")[0][1]).toMatchObject({ skip_kubelet_verification: true, token_path: "/w/agent/sa-token" });
    });

    it("keeps the chart's k8s attestor and SDS settings", () => {
        expect(pluginsOf(config, "WorkloadAttestor").map(([name]) => name)).toEqual(["k8s", "unix"]);
        expect((config.agent as JsonObject).sds).toEqual((renderedAgent.agent as JsonObject).sds);
    });
});

describe("the rendered controller manager config", () => {
    const { config } = hostControllerManagerConfig(renderedManager, { address: "127.0.0.2", serverSocketPath: "/w/server/api.sock" });

    it("changes the listeners' address, the server socket and the cluster domain only", () => {
        expect(changedPaths(parseControllerManagerConfig(renderedManager), config)).toEqual(["clusterDomain", "health.healthProbeBindAddress", "metrics.bindAddress", "spireServerSocketPath"]);
        expect(config).toMatchObject({ metrics: { bindAddress: "127.0.0.2:8082" }, health: { healthProbeBindAddress: "127.0.0.2:8083" }, clusterDomain: "cluster.local", spireServerSocketPath: "/w/server/api.sock" });
    });

    it("keeps the class, trust domain and cluster name the program's custom resources rely on", () => {
        expect(config).toMatchObject({ className: "spire-server-spire", trustDomain: "foo.com", clusterName: "cluster-1" });
    });
});

describe("rewrite helpers", () => {
    it("relocates a path prefix only at a path boundary", () => {
        const config = { a: "/run/spire/data", b: "/run/spire/data/x.db", c: "/run/spire/database", d: ["/run/spire/data/y"] };
        relocatePaths(config, "/run/spire/data", "/h");
        expect(config).toEqual({ a: "/h", b: "/h/x.db", c: "/run/spire/database", d: ["/h/y"] });
    });

    it("reads plugins written as a list of one-key objects too", () => {
        expect(pluginsOf({ plugins: { KeyManager: [{ memory: { plugin_data: {} } }, { disk: { plugin_data: { directory: "/d" } } }] } }, "KeyManager").map(([name]) => name)).toEqual(["memory", "disk"]);
    });

    it("moves a bind address to another host, port kept, and refuses one without a port", () => {
        expect(onAddress("0.0.0.0:8083", "127.0.0.3")).toBe("127.0.0.3:8083");
        expect(() => onAddress("0.0.0.0", "127.0.0.3")).toThrow(/no port/);
    });

    it("refuses a config that is not JSON, naming it", () => {
        expect(() => parseRenderedConf("server { }", "ns/map server.conf")).toThrow(/ns\/map server\.conf is not JSON/);
    });
});

describe("bundle comparisons", () => {
    const own = { trust_domain: "bar.com", x509_authorities: [{ asn1: "B" }, { asn1: "A" }], jwt_authorities: [{ key_id: "k1", public_key: "", expires_at: "" }] };

    it("tells a bootstrap copy (X.509 only) from a fetched one and from a stale one", () => {
        expect(peerBundleState(undefined, own)).toBe("absent");
        expect(peerBundleState({ trust_domain: "bar.com", x509_authorities: [{ asn1: "A" }, { asn1: "B" }] }, own)).toBe("bootstrap");
        expect(peerBundleState({ ...own, jwt_authorities: [{ key_id: "k0", public_key: "", expires_at: "" }] }, own)).toBe("stale");
        expect(peerBundleState({ ...own, x509_authorities: [{ asn1: "A" }, { asn1: "B" }] }, own)).toBe("fetched");
        expect(bundleKeys(own)).toEqual({ x509: ["A", "B"], jwt: ["k1"] });
    });

    it("reads the X.509 authorities of a SPIFFE bundle document, ignoring JWT keys", () => {
        const document = JSON.stringify({ keys: [{ use: "x509-svid", x5c: ["R2"] }, { use: "jwt-svid", kid: "k" }, { use: "x509-svid", x5c: ["R1"] }] });
        expect(spiffeBundleAuthorities(document)).toEqual(["R1", "R2"]);
    });
});

describe("the kube-proxy stand-in", () => {
    it("forwards a node port's bytes both ways and counts the connections", async () => {
        const echo = net.createServer((socket) => socket.pipe(socket));
        await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
        const target = (echo.address() as net.AddressInfo).port;
        const probe = net.createServer();
        await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
        const nodePort = (probe.address() as net.AddressInfo).port;
        await new Promise<void>((resolve) => probe.close(() => resolve()));
        const forwarder = await startForwarder({ address: "127.0.0.1", port: nodePort }, { address: "127.0.0.1", port: target });
        try {
            const answer = await new Promise<string>((resolve, reject) => {
                const client = net.connect(nodePort, "127.0.0.1", () => client.end("hello through the node port"));
                let data = "";
                client.on("data", (chunk) => (data += chunk.toString()));
                client.on("end", () => resolve(data));
                client.on("error", reject);
            });
            expect(answer).toBe("hello through the node port");
            expect(forwarder.connections()).toBe(1);
            expect(forwarder.route).toBe(`127.0.0.1:${nodePort} -> 127.0.0.1:${target}`);
        } finally {
            await forwarder.close();
            await new Promise<void>((resolve) => echo.close(() => resolve()));
        }
    });
});
