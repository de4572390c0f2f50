import { readFileSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acceptedTimeout, caRootProblems, clusterzProblems, endpointProblems, errorLines, gatewayProblems, meshProblems, registryProblems } from "../e2e/live/istiod/checks";
import { forward } from "../e2e/live/istiod/forwarder";
import { flagValue, hostCommand, withFlag } from "../e2e/live/istiod/hostCommand";
import { eastWestGateway, peerServices } from "../e2e/live/istiod/peerView";
import { Deployment, expandReferences, Node, Pod, podField, quantity, resolveArgs, resolveEnv, resourceField } from "../e2e/live/istiod/podSpec";
import { describeRules, kubeconfigToken, tokenSubject } from "../e2e/live/istiod/readerEvidence";
import { forbiddenInLog, readerManifests, remoteReads, rulesOf, without } from "../e2e/live/istiod/readerRbac";

const fixtures = join(__dirname, "..", "e2e", "live", "istiod", "fixtures");

const pod: Pod = {
    metadata: { name: "istiod-7c9d-abcde", namespace: "istio-system", uid: "0d3c", labels: { app: "istiod" }, annotations: { "a.b/c": "d" } },
    spec: { serviceAccountName: "istiod", nodeName: "cluster-1-node", containers: [] },
    status: { podIP: "10.2.0.7", hostIP: "127.0.0.2" },
};

describe("e2e/live/istiod/podSpec.ts: the container as the kubelet resolves it", () => {
    it("expands $(VAR) from earlier variables, keeps $$( literal and unknown references as written", () => {
        const defined = new Map([["A", "x"]]);
        expect(expandReferences("$(A)-$(B)-$$(A)", defined)).toBe("x-$(B)-$(A)");
    });

    it("reads the downward API's fields, labels and annotations from the pod", () => {
        expect(podField(pod, "metadata.namespace")).toBe("istio-system");
        expect(podField(pod, "spec.serviceAccountName")).toBe("istiod");
        expect(podField(pod, "status.podIP")).toBe("10.2.0.7");
        expect(podField(pod, "metadata.labels['app']")).toBe("istiod");
        expect(podField(pod, "metadata.annotations['a.b/c']")).toBe("d");
        expect(() => podField(pod, "spec.hostname")).toThrow(/spec\.hostname: not a field the downward API offers/);
    });

    it("parses quantities in base units", () => {
        expect(quantity("500m")).toBe(0.5);
        expect(quantity("2Gi")).toBe(2 * 1024 ** 3);
        expect(quantity("1k")).toBe(1000);
        expect(() => quantity("1x")).toThrow(/unknown suffix x/);
    });

    it("rounds a resourceFieldRef up, and takes an unset limit from the node's allocatable", () => {
        const container = { name: "c", resources: { requests: { cpu: "500m" }, limits: { memory: "1Gi" } } };
        const node = { metadata: { name: "n" }, status: { allocatable: { cpu: "4" } } };
        expect(resourceField(container, node, { resource: "requests.cpu", divisor: "1" }).value).toBe("1");
        expect(resourceField(container, node, { resource: "limits.memory", divisor: "1Mi" }).value).toBe("1024");
        const cpu = resourceField(container, node, { resource: "limits.cpu", divisor: 1 });
        expect(cpu.value).toBe("4");
        expect(cpu.source).toMatch(/node n allocatable 4/);
        expect(() => resourceField(container, { metadata: { name: "bare" } }, { resource: "limits.cpu" })).toThrow(/no allocatable cpu/);
    });

    it("resolves env in order, values referring to earlier ones, and args referring to env", () => {
        const container = {
            name: "discovery",
            args: ["discovery", "--namespace=$(POD_NAMESPACE)"],
            env: [
                { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                { name: "WHERE", value: "$(POD_NAMESPACE)/$(LATER)" },
                { name: "LATER", value: "x" },
                { name: "KEY", valueFrom: { configMapKeyRef: { name: "cm", key: "k" } } },
                { name: "OPTIONAL", valueFrom: { secretKeyRef: { name: "s", key: "k", optional: true } } },
            ],
        };
        const env = resolveEnv(container, pod, undefined, { configMaps: { "istio-system/cm": { k: "v" } }, secrets: {} });
        expect(env.map((variable) => [variable.name, variable.value])).toEqual([
            ["POD_NAMESPACE", "istio-system"],
            ["WHERE", "istio-system/$(LATER)"],
            ["LATER", "x"],
            ["KEY", "v"],
        ]);
        expect(resolveArgs(container, env)).toEqual(["discovery", "--namespace=istio-system"]);
        expect(() => resolveEnv({ ...container, env: [{ name: "K", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] }, pod, undefined)).toThrow(/Secret istio-system\/s has no key k/);
        expect(() => resolveEnv({ name: "c", envFrom: [{}] }, pod, undefined)).toThrow(/envFrom/);
    });
});

describe("e2e/live/istiod/hostCommand.ts: pflag forms", () => {
    it("reads --flag=value, --flag value and -flag=value", () => {
        expect(flagValue(["discovery", "--monitoringAddr=:15014"], "monitoringAddr")).toBe(":15014");
        expect(flagValue(["discovery", "--domain", "cluster.local"], "domain")).toBe("cluster.local");
        expect(flagValue(["discovery", "-domain=x"], "domain")).toBe("x");
        expect(flagValue(["discovery"], "domain")).toBeUndefined();
    });

    it("replaces every form of a flag by one --flag=value at the end", () => {
        expect(withFlag(["discovery", "--domain", "a", "--x=1", "--domain=b"], "domain", "c")).toEqual(["discovery", "--x=1", "--domain=c"]);
    });
});

describe("e2e/live/istiod/checks.ts: istiod's debug endpoints judged against the peers", () => {
    it("clusterz: every peer synced through a remote secret, nothing else listed", () => {
        const synced = [
            { id: "cluster-1", syncStatus: "synced" },
            { id: "cluster-2", secretName: "istio-system/istio-remote-secret-cluster-2", syncStatus: "synced" },
        ];
        expect(clusterzProblems(synced, "cluster-1", ["cluster-2"])).toEqual([]);
        expect(clusterzProblems([synced[0], { ...synced[1], syncStatus: "timeout" }], "cluster-1", ["cluster-2"])).toEqual([
            "peer cluster-2 is timeout (remote secret istio-system/istio-remote-secret-cluster-2)",
        ]);
        expect(clusterzProblems([synced[0]], "cluster-1", ["cluster-2"])).toEqual(["peer cluster-2 is not listed (no remote secret read for it)"]);
        expect(clusterzProblems([...synced, { id: "cluster-9", syncStatus: "synced" }], "cluster-1", ["cluster-2"])).toEqual(["clusters that are no peer: cluster-9 (synced)"]);
    });

    it("clusterz: a peer's timeout passes only where the caller accepts it for that peer", () => {
        const timedOut = [
            { id: "cluster-1", syncStatus: "synced" },
            { id: "cluster-2", secretName: "istio-system/istio-remote-secret-cluster-2", syncStatus: "timeout" },
        ];
        expect(clusterzProblems(timedOut, "cluster-1", ["cluster-2"], { "cluster-2": "only secrets refused" })).toEqual([]);
        expect(clusterzProblems(timedOut, "cluster-1", ["cluster-2"], { "cluster-3": "only secrets refused" })).toHaveLength(1);
        const syncing = [timedOut[0], { ...timedOut[1], syncStatus: "syncing" }];
        expect(clusterzProblems(syncing, "cluster-1", ["cluster-2"], { "cluster-2": "only secrets refused" })).toHaveLength(1);
    });

    it("a timeout is accepted only when what was refused is all accepted, and something was", () => {
        expect(acceptedTimeout(["secrets"], ["secrets"])).toBe("istiod's only refused reads are secrets");
        expect(acceptedTimeout(["secrets", "endpointslices.discovery.k8s.io"], ["secrets"])).toBeUndefined();
        expect(acceptedTimeout([], ["secrets"])).toBeUndefined();
    });

    const helloworld = { name: "helloworld", namespace: "helloworld", clusterIPs: ["10.96.0.20"], readyAddresses: ["10.3.0.5"] };

    it("registryz: the peer's service under its hostname with the peer's ClusterIP", () => {
        const service = (addresses: Record<string, string[]>) => ({ hostname: "helloworld.helloworld.svc.cluster.local", clusterVIPs: { Addresses: addresses }, Attributes: { Name: "helloworld", Namespace: "helloworld" } });
        expect(registryProblems([service({ "cluster-1": ["10.96.0.9"], "cluster-2": ["10.96.0.20"] })], "cluster-2", [helloworld])).toEqual([]);
        expect(registryProblems([service({ "cluster-1": ["10.96.0.9"] })], "cluster-2", [helloworld])).toEqual([
            "helloworld.helloworld.svc.cluster.local: no address for cluster cluster-2 (has cluster-1)",
        ]);
        expect(registryProblems([], "cluster-2", [helloworld])).toEqual(["helloworld.helloworld.svc.cluster.local of cluster-2 is not in the registry"]);
    });

    it("endpointShardz: the peer's ready addresses in its shard, on its network", () => {
        const shardz = (network: string, addresses: string[]) => ({
            "helloworld.helloworld.svc.cluster.local": { helloworld: { Shards: { "Kubernetes/cluster-2": addresses.map((address) => ({ Addresses: [address], Network: network })) } } },
        });
        expect(endpointProblems(shardz("bar-network", ["10.3.0.5"]), "cluster-2", "bar-network", [helloworld])).toEqual([]);
        expect(endpointProblems(shardz("bar-network", []), "cluster-2", "bar-network", [helloworld])).toEqual([
            "helloworld.helloworld.svc.cluster.local: cluster-2's endpoints 10.3.0.5 missing from its shard (has none)",
        ]);
        expect(endpointProblems(shardz("", ["10.3.0.5"]), "cluster-2", "bar-network", [helloworld])).toEqual([
            'helloworld.helloworld.svc.cluster.local: cluster-2\'s endpoints not on network bar-network: 10.3.0.5 on ""',
        ]);
    });

    it("networkz: each peer network's gateway at the peer's node address and node port", () => {
        const want = [{ network: "bar-network", address: "127.0.0.3", port: 31443 }];
        expect(gatewayProblems([{ Network: "bar-network", Cluster: "cluster-2", Addr: "127.0.0.3", Port: 31443 }], want)).toEqual([]);
        expect(gatewayProblems([{ Network: "bar-network", Cluster: "cluster-2", Addr: "127.0.0.2", Port: 31443 }], want)).toEqual([
            "network bar-network: gateway 127.0.0.2:31443, the peer's node and node port are 127.0.0.3:31443",
        ]);
        expect(gatewayProblems([], want)).toEqual(["no gateway for network bar-network (gateways: none)"]);
    });

    it("CA root: exactly the domain root, compared as certificates", () => {
        // Two self-signed certificates made with openssl for this test (fixtures, not the code's output).
        const rootA = readFileSync(join(fixtures, "root-A.crt"), "utf8");
        const rootB = readFileSync(join(fixtures, "root-B.crt"), "utf8");
        expect(caRootProblems(rootA, rootA, "cm")).toEqual([]);
        expect(caRootProblems(`${rootA}\n`.replace(/\n/g, "\r\n"), rootA, "cm")).toEqual([]);
        expect(caRootProblems(rootB, rootA, "cm")[0]).toMatch(/^cm: .*CN=e2e test root B.*not the domain root .*CN=e2e test root A/);
        expect(caRootProblems(`${rootA}\n${rootB}`, rootA, "cm")).toEqual(["cm: 2 certificates, want the domain root alone"]);
        expect(caRootProblems(undefined, rootA, "cm")).toEqual(["cm: no root-cert.pem (istiod has not written it)"]);
    });
});

describe("e2e/live/istiod/checks.ts: istiod's own state", () => {
    it("mesh config: the domain's trust domain, else what istiod fell back to is named", () => {
        expect(meshProblems({ trustDomain: "foo.com" }, "foo.com")).toEqual([]);
        expect(meshProblems({ trustDomain: "cluster.local" }, "foo.com")).toEqual(['istiod\'s trust domain is "cluster.local" (default cluster.local when the mesh config was not read), want foo.com']);
    });

    it("error lines of istiod's log format", () => {
        const log = "2026-12-07T00:50:00.1Z\tinfo\tstarting\n2026-12-07T00:50:01.2Z\terror\tfailed to x\n2026-12-07T00:50:02.3Z\twarn\tan error, but a warning";
        expect(errorLines(log)).toEqual(["2026-12-07T00:50:01.2Z\terror\tfailed to x"]);
    });
});

describe("e2e/live/istiod/peerView.ts: expectations from a peer's API objects", () => {
    it("ready addresses per Service from its EndpointSlices; default/kubernetes left out", () => {
        const services = [
            { metadata: { name: "kubernetes", namespace: "default" }, spec: { clusterIP: "10.96.0.1" } },
            { metadata: { name: "helloworld", namespace: "helloworld" }, spec: { clusterIPs: ["10.96.0.20"] } },
            { metadata: { name: "headless", namespace: "x" }, spec: { clusterIP: "None" } },
        ];
        const slices = [
            {
                metadata: { namespace: "helloworld", labels: { "kubernetes.io/service-name": "helloworld" } },
                endpoints: [
                    { addresses: ["10.3.0.5"], conditions: { ready: true } },
                    { addresses: ["10.3.0.6"], conditions: { ready: false } },
                    { addresses: ["10.3.0.7"] },
                ],
            },
        ];
        expect(peerServices(services, slices)).toEqual([
            { name: "helloworld", namespace: "helloworld", clusterIPs: ["10.96.0.20"], readyAddresses: ["10.3.0.5", "10.3.0.7"] },
            { name: "headless", namespace: "x", clusterIPs: [], readyAddresses: [] },
        ]);
    });

    it("the east-west gateway: node address and node port of port 15443, or the load balancer", () => {
        const nodes = [{ status: { addresses: [{ type: "Hostname", address: "n" }, { type: "InternalIP", address: "127.0.0.3" }] } }];
        const nodePort = { metadata: { name: "istio-eastwestgateway", namespace: "istio-system" }, spec: { type: "NodePort", ports: [{ port: 15021, nodePort: 30021 }, { port: 15443, nodePort: 31443 }] } };
        expect(eastWestGateway("bar-network", [nodePort], nodes)).toEqual({ network: "bar-network", address: "127.0.0.3", port: 31443 });
        const balanced = { ...nodePort, spec: { type: "LoadBalancer", ports: [{ port: 15443 }] }, status: { loadBalancer: { ingress: [{ ip: "203.0.113.7" }] } } };
        expect(eastWestGateway("bar-network", [balanced], nodes)).toEqual({ network: "bar-network", address: "203.0.113.7", port: 15443 });
        expect(() => eastWestGateway("bar-network", [], nodes)).toThrow(/want one Service with port 15443/);
    });
});

describe("e2e/live/istiod/readerRbac.ts: the reads of a remote istiod as RBAC", () => {
    it("grants no Secret, configmap or write beyond what the source needs", () => {
        const { cluster, namespaced } = rulesOf(remoteReads);
        for (const rule of [...cluster, ...Object.values(namespaced).flat()]) expect(rule.verbs).toEqual(["get", "list", "watch"]);
        expect(cluster.some((rule) => rule.resources.includes("configmaps"))).toBe(false);
        expect(namespaced["istio-system"]).toEqual([{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"], resourceNames: ["istio"] }]);
        expect(rulesOf(without(remoteReads, "secrets")).cluster.some((rule) => rule.resources.includes("secrets"))).toBe(false);
        expect(() => without(remoteReads, "endpoints")).toThrow(/not among the reads: endpoints/);
    });

    it("binds one ServiceAccount to the cluster-wide and the namespaced rules", () => {
        const objects = readerManifests("probe", "e2e-reader-probe", without(remoteReads, "endpointslices")) as { kind: string; metadata: { namespace?: string }; rules?: { resources: string[] }[] }[];
        expect(objects.map((object) => `${object.kind} ${object.metadata.namespace ?? ""}`)).toEqual([
            "Namespace ",
            "ServiceAccount e2e-reader-probe",
            "ClusterRole ",
            "ClusterRoleBinding ",
            "Role istio-system",
            "RoleBinding istio-system",
        ]);
        expect(objects[2].rules!.flatMap((rule) => rule.resources)).not.toContain("endpointslices");
    });

    it("finds what istiod's log names as forbidden", () => {
        const log = [
            '2026-12-07T01:00:00.000Z\terror\tk8s.io/client-go@v0.35.0/tools/cache/reflector.go:290: Failed to watch *v1.EndpointSlice: failed to list *v1.EndpointSlice: endpointslices.discovery.k8s.io is forbidden: User "system:serviceaccount:e2e-reader-probe:e2e-reader-x" cannot list resource "endpointslices" in API group "discovery.k8s.io" at the cluster scope',
            '2026-12-07T01:00:01.000Z\terror\tfailed to list *v1.Secret: secrets is forbidden: User "system:serviceaccount:e2e-reader-probe:e2e-reader-x" cannot list resource "secrets" in API group "" at the cluster scope',
            "2026-12-07T01:00:02.000Z\tinfo\tunrelated",
        ].join("\n");
        expect(forbiddenInLog(log).map((entry) => entry.resource)).toEqual(["endpointslices.discovery.k8s.io", "secrets"]);
        expect(forbiddenInLog(log, "system:serviceaccount:e2e-reader-probe:e2e-reader-x").map((entry) => entry.resource)).toEqual(["endpointslices.discovery.k8s.io", "secrets"]);
        expect(forbiddenInLog(log, "system:serviceaccount:istio-system:other")).toEqual([]);
    });
});


describe("e2e/live/istiod/forwarder.ts: the kube-proxy stand-in", () => {
    it("pipes a connection's bytes both ways to the target", async () => {
        const echo = net.createServer((socket) => socket.on("data", (data) => socket.write(`echo:${data.toString()}`)));
        await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
        const forwarder = await forward({ host: "127.0.0.1", port: 0 }, { host: "127.0.0.1", port: (echo.address() as net.AddressInfo).port });
        try {
            const [host, port] = forwarder.listening.split(":");
            const answer = await new Promise<string>((resolve, reject) => {
                const client = net.connect(Number(port), host, () => client.write("ping"));
                client.on("data", (data) => {
                    resolve(data.toString());
                    client.end();
                });
                client.on("error", reject);
            });
            expect(answer).toBe("echo:ping");
            expect(forwarder.connections()).toBe(1);
        } finally {
            await forwarder.close();
            echo.close();
        }
    });
});

describe("e2e/live/istiod/readerEvidence.ts: the rules behind a remote secret", () => {
    it("reads the ServiceAccount from the kubeconfig's token and prints rules one per line", () => {
        // A token-shaped string with the claims the API server puts in a ServiceAccount token (not signed: only sub is read).
        const claims = Buffer.from(JSON.stringify({ sub: "system:serviceaccount:istio-system:istio-reader-service-account" })).toString("base64url");
        const kubeconfig = `apiVersion: v1\nkind: Config\nusers:\n- name: r\n  user:\n    token: eyJhbGciOiJSUzI1NiJ9.${claims}.c2ln\n`;
        expect(tokenSubject(kubeconfigToken(kubeconfig))).toBe("system:serviceaccount:istio-system:istio-reader-service-account");
        expect(() => tokenSubject("opaque")).toThrow(/not a JWT/);
        expect(describeRules([{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"], resourceNames: ["istio"] }, { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list"] }], "in istio-system (r)")).toEqual([
            "in istio-system (r) core/configmaps[istio]: get,list",
            "in istio-system (r) discovery.k8s.io/endpointslices: list",
        ]);
    });
});

describe("e2e/live/istiod/hostCommand.ts on the istiod Deployment the program deployed (captured from the test bed, 2026-12-07)", () => {
    const read = <T>(name: string): T => JSON.parse(readFileSync(join(fixtures, name), "utf8")) as T;
    const deployment = read<Deployment>("istiod-deployment.json");
    const capturedPod = read<Pod>("istiod-pod.json");
    const node = read<Node>("node.json");
    const host = { address: "127.0.0.2", kubeconfig: "/w/kubeconfig", workDir: "/w", hostCores: 2, ports: { httpAddr: { port: 18080, why: "taken" } } };
    const command = hostCommand(deployment, capturedPod, node, host);

    it("keeps the container's arguments and binds every listener to the cluster's address", () => {
        expect(command.args).toEqual([
            "discovery",
            "--log_output_level=default:info",
            "--domain",
            "cluster.local",
            "--keepaliveMaxServerConnectionAge",
            "30m",
            "--httpAddr=127.0.0.2:18080",
            "--grpcAddr=127.0.0.2:15010",
            "--secureGRPCAddr=127.0.0.2:15012",
            "--httpsAddr=127.0.0.2:15017",
            "--monitoringAddr=127.0.0.2:15014",
            "--ctrlz_address=127.0.0.2",
            "--kubeconfig=/w/kubeconfig",
        ]);
        expect(command.readinessUrl).toBe("http://127.0.0.2:18080/ready");
    });

    it("resolves the env as the kubelet would: fieldRefs from the pod, GOMAXPROCS from the node (capped to the host)", () => {
        expect(command.env).toEqual({
            REVISION: "default",
            PILOT_CERT_PROVIDER: "istiod",
            POD_NAME: "istiod-6fdddf9b7c-dbx57",
            POD_NAMESPACE: "istio-system",
            SERVICE_ACCOUNT: "istiod",
            KUBECONFIG: "/w/kubeconfig",
            CA_TRUSTED_NODE_ACCOUNTS: "istio-system/ztunnel",
            ENABLE_NATIVE_SIDECARS: "true",
            PILOT_TRACE_SAMPLING: "1",
            PILOT_ENABLE_ANALYSIS: "false",
            CLUSTER_ID: "cluster-1",
            GOMAXPROCS: "2",
            PLATFORM: "",
        });
        expect(command.resolvedEnv.find((variable) => variable.name === "GOMAXPROCS")).toEqual({
            name: "GOMAXPROCS",
            value: "1000",
            source: "resourceFieldRef limits.cpu (no limit set: node cluster-1-node allocatable 1k, as the kubelet substitutes)",
        });
    });

    it("lists every host change with the container's value", () => {
        expect(command.changes.map((change) => `${change.what}: ${change.container} -> ${change.host}`)).toEqual([
            "arg --httpAddr: (unset: :8080) -> 127.0.0.2:18080",
            "arg --grpcAddr: (unset: :15010) -> 127.0.0.2:15010",
            "arg --secureGRPCAddr: (unset: :15012) -> 127.0.0.2:15012",
            "arg --httpsAddr: (unset: :15017) -> 127.0.0.2:15017",
            "arg --monitoringAddr: :15014 -> 127.0.0.2:15014",
            "arg --ctrlz_address: (unset: localhost, port 9876) -> 127.0.0.2",
            "arg --kubeconfig: (unset: in-cluster config) -> /w/kubeconfig",
            "env KUBECONFIG: /var/run/secrets/remote/config -> /w/kubeconfig",
            "env GOMAXPROCS: 1000 -> 2",
            "workdir: / -> /w",
        ]);
        expect(command.changes.every((change) => change.why.length > 20)).toBe(true);
    });

    it("refuses a Deployment whose container lost a port pilot-discovery listens on", () => {
        const moved = structuredClone(deployment);
        moved.spec.template.spec.containers[0].ports = moved.spec.template.spec.containers[0].ports!.filter((port) => port.containerPort !== 15012);
        expect(() => hostCommand(moved, capturedPod, node, host)).toThrow(/declares no port 15012 \(pilot-discovery's --secureGRPCAddr default\)/);
    });
});
