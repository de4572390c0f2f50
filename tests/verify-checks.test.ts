import { X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { CheckContext, Clock, defaultCheckSettings, runChecks, spireServerCommand } from "../scripts/verify/checks";
import { secretsDumpCommand } from "../scripts/verify/envoy";
import { DomainTarget } from "../scripts/verify/inputs";
import { CustomObjectQuery, DeploymentState, ExecResult, MeshAccess, PodSummary } from "../scripts/verify/meshAccess";
import { aggregate, CheckId } from "../scripts/verify/report";
import { x509AuthoritiesOfBundle } from "../scripts/verify/spiffe";
import { generateTestKeyPair, issueCertificate } from "./harness/certificates";
import { istiodContainer, istiodMetricsCommand } from "../scripts/verify/istiod";
import { bundleListJson, cacertsCertificate, DomainPki, domainPki, istiodMetricsText, secretsConfigDump, svid } from "./verifyFixtures";

/** Time that only moves when a check waits, so retries cost nothing. */
class FakeClock implements Clock {
    time = 0;
    now(): number {
        return this.time;
    }
    async sleep(ms: number): Promise<void> {
        this.time += ms;
    }
}

const ok = (stdout: string): ExecResult => ({ stdout, stderr: "", exitCode: 0 });

interface Workload {
    namespace: string;
    app: string;
    version?: string;
    serviceAccount: string;
    replicas: number;
}

/**
 * One cluster of a fake mesh. Pods follow their Deployments' replicas; the sleep pod's curl is
 * answered by the mesh (which versions are up and reachable); proxies answer config_dump with
 * real SVIDs; the SPIRE server answers bundle list from the federation state.
 */
class FakeCluster implements MeshAccess {
    workloads: Workload[] = [];
    scaleCalls: { name: string; replicas: number }[] = [];
    /** Pods named here answer config_dump with this instead of their SPIRE SVID. */
    proxyOverrides = new Map<string, () => Promise<string>>();
    federatedDomains: string[] = [];
    bundles: { trustDomain: string; rootPems: string[] }[] = [];
    secrets: Record<string, Record<string, string>> = {};
    certificates: Record<string, unknown>[] = [];
    failScaleBack = false;
    /** What istiod read from cacerts when it last loaded it; it lags the Secret until "reloaded". */
    istiodLoaded?: { signingPem: string; rootPem: string };
    readonly execLog: string[][] = [];

    constructor(
        readonly clusterName: string,
        readonly index: number,
        readonly pki: DomainPki,
        private readonly mesh: FakeMesh,
    ) {}

    private podsOf(workload: Workload): PodSummary[] {
        const base = workload.version ? `${workload.app}-${workload.version}` : workload.app;
        return Array.from({ length: workload.replicas }, (_, n) => ({
            name: `${base}-5f6584cc9c-${n}`,
            namespace: workload.namespace,
            serviceAccount: workload.serviceAccount,
            phase: "Running",
            terminating: false,
            ready: true,
            labels: { app: workload.app, ...(workload.version ? { version: workload.version } : {}) },
        }));
    }

    async listPods(namespace: string, labelSelector: string): Promise<PodSummary[]> {
        if (namespace === "spire-server" && labelSelector === "app.kubernetes.io/name=server") {
            return [{ name: "spire-server-0", namespace, serviceAccount: "spire-server", phase: "Running", terminating: false, ready: true, labels: {} }];
        }
        if (namespace === "istio-system" && labelSelector === "app=istiod") {
            return [{ name: "istiod-6d8f7b9c4d-x2k5p", namespace, serviceAccount: "istiod", phase: "Running", terminating: false, ready: true, labels: { app: "istiod" } }];
        }
        const wanted = Object.fromEntries(labelSelector.split(",").map((pair) => pair.split("=")));
        return this.workloads
            .filter((w) => w.namespace === namespace)
            .flatMap((w) => this.podsOf(w))
            .filter((pod) => Object.entries(wanted).every(([key, value]) => pod.labels[key] === value));
    }

    private findPod(namespace: string, name: string): PodSummary | undefined {
        return this.workloads.flatMap((w) => this.podsOf(w)).find((pod) => pod.namespace === namespace && pod.name === name);
    }

    async execInPod(namespace: string, pod: string, container: string, command: string[]): Promise<ExecResult> {
        this.execLog.push([namespace, pod, container, ...command]);
        if (container === "sleep") {
            const stdout = this.mesh.answerCurl(this, command[2]);
            // The exec stream ended early: what was printed so far arrives, with no exit status.
            return this.mesh.cutAfterReplies === undefined ? ok(stdout) : { stdout, stderr: "", exitCode: -1 };
        }
        if (container === istiodContainer && JSON.stringify(command) === JSON.stringify(istiodMetricsCommand)) {
            if (!this.istiodLoaded) return ok("# istiod on its self-signed CA: no cert chain gauge\n");
            return ok(istiodMetricsText(this.istiodLoaded.signingPem, this.istiodLoaded.rootPem));
        }
        if (container === "spire-server" && JSON.stringify(command) === JSON.stringify(spireServerCommand)) {
            return ok(bundleListJson(this.bundles));
        }
        if (container === "istio-proxy" && JSON.stringify(command) === JSON.stringify(secretsDumpCommand)) {
            const summary = this.findPod(namespace, pod);
            if (!summary) return { stdout: "", stderr: `pods "${pod}" not found`, exitCode: 1 };
            const override = this.proxyOverrides.get(pod);
            if (override) return ok(await override());
            const id = `spiffe://${this.pki.trustDomain}/ns/${namespace}/sa/${summary.serviceAccount}`;
            const leaf = await svid(this.pki.spireCa, [id]);
            return ok(secretsConfigDump([leaf, this.pki.spireCa.certificatePem], this.mesh.allRoots(), "spiffe_validator"));
        }
        return { stdout: "", stderr: `unexpected exec ${container} ${command.join(" ")}`, exitCode: 126 };
    }

    async getDeployment(namespace: string, name: string): Promise<DeploymentState | undefined> {
        const workload = this.workloads.find((w) => w.namespace === namespace && `${w.app}-${w.version}` === name);
        return workload && { replicas: workload.replicas, readyReplicas: workload.replicas };
    }

    async scaleDeployment(namespace: string, name: string, replicas: number): Promise<void> {
        this.scaleCalls.push({ name, replicas });
        if (replicas > 0 && this.failScaleBack) throw new Error("the server has asked for the client to provide credentials");
        const workload = this.workloads.find((w) => w.namespace === namespace && `${w.app}-${w.version}` === name);
        if (!workload) throw new Error(`deployments.apps "${name}" not found`);
        workload.replicas = replicas;
    }

    async getSecret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
        return this.secrets[`${namespace}/${name}`];
    }

    async listCustomObjects(query: CustomObjectQuery): Promise<Record<string, unknown>[]> {
        if (query.plural === "clusterfederatedtrustdomains") {
            return this.federatedDomains.map((trustDomain) => ({
                metadata: { name: trustDomain.replace(/\./g, "-") },
                spec: { trustDomain, className: "spire-server-spire" },
            }));
        }
        if (query.plural === "certificates" && query.namespace === "istio-system") return this.certificates;
        return [];
    }
}

/** The mesh between fake clusters: which helloworld versions answer, from where. */
class FakeMesh {
    clusters: FakeCluster[] = [];
    /** Clusters whose east-west gateway is down: their endpoints are unreachable from peers. */
    unreachable = new Set<string>();
    /** Curl batches to fail with 503 before the mesh "converges". */
    notConvergedBatches = 0;
    /** When set, every batch's output stops after this many replies, mid-way through the next. */
    cutAfterReplies?: number;
    private turn = 0;

    allRoots(): { trustDomain: string; pem: string }[] {
        return this.clusters.map((c) => ({ trustDomain: c.pki.trustDomain, pem: c.pki.root.certificatePem }));
    }

    private liveVersions(from: FakeCluster): { version: string; pod: string }[] {
        return this.clusters
            .filter((c) => c === from || !this.unreachable.has(c.clusterName))
            .flatMap((c) => c.workloads.filter((w) => w.app === "helloworld" && w.replicas > 0).map((w) => ({ version: w.version!, pod: `helloworld-${w.version}-7fd66fcfdc-0` })));
    }

    answerCurl(from: FakeCluster, script: string): string {
        const url = /'(http[^']+)'/.exec(script)![1];
        const count = Number(/-lt (\d+) \]/.exec(script)![1]);
        const ingress = this.clusters[1];
        const viaIngress = url === `http://${ingressAddress(ingress)}/hello`;
        const known = viaIngress || url === "http://helloworld.helloworld:5000/hello";
        const converged = this.notConvergedBatches-- <= 0;
        const backends = this.liveVersions(viaIngress ? ingress : from);
        const lines: string[] = [];
        for (let n = 0; n < count; n++) {
            lines.push("@@verify-begin@@");
            if (this.cutAfterReplies !== undefined && n >= this.cutAfterReplies) break;
            if (!known) {
                lines.push("curl: (6) Could not resolve host", "@@verify-end status=000@@", "@@verify-exit 6@@");
            } else if (!converged || backends.length === 0) {
                lines.push("no healthy upstream", "@@verify-end status=503@@");
            } else {
                const backend = backends[this.turn++ % backends.length];
                lines.push(`Hello version: ${backend.version}, instance: ${backend.pod}`, "@@verify-end status=200@@");
            }
        }
        return lines.join("\n");
    }
}

const ingressAddress = (cluster: FakeCluster) => `172.18.0.${cluster.index + 2}:30080`;
const trustDomains = ["foo.com", "bar.com", "baz.com"];
let pkis: DomainPki[];

beforeAll(async () => {
    pkis = await Promise.all(trustDomains.map((td) => domainPki(td)));
});

/** A mesh as `pulumi up` leaves it, with `domains` clusters, and the context verify would build. */
async function healthyMesh(domains: number, configured = "1440h"): Promise<{ mesh: FakeMesh; context: CheckContext; clock: FakeClock }> {
    const mesh = new FakeMesh();
    for (let index = 0; index < domains; index++) {
        const cluster = new FakeCluster(`cluster-${index + 1}`, index, pkis[index], mesh);
        cluster.workloads.push(
            { namespace: "helloworld", app: "helloworld", version: `v${index + 1}`, serviceAccount: "helloworld", replicas: 1 },
            { namespace: "sleep", app: "sleep", serviceAccount: "sleep", replicas: 1 },
        );
        if (index === 1) {
            for (const [app, versions] of [["details", ["v1"]], ["ratings", ["v1"]], ["reviews", ["v1", "v2", "v3"]], ["productpage", ["v1"]]] as const) {
                for (const version of versions) cluster.workloads.push({ namespace: "default", app, version, serviceAccount: `bookinfo-${app}`, replicas: 1 });
            }
        }
        cluster.secrets["istio-system/cacerts"] = { "tls.crt": await cacertsCertificate(pkis[index].root, 1440), "ca.crt": pkis[index].root.certificatePem };
        cluster.istiodLoaded = { signingPem: cluster.secrets["istio-system/cacerts"]["tls.crt"], rootPem: pkis[index].root.certificatePem };
        cluster.certificates = [{ metadata: { name: "istiod-cacerts" }, spec: { secretName: "cacerts", duration: "1440h0m0s", isCA: true } }];
        mesh.clusters.push(cluster);
    }
    for (const cluster of mesh.clusters) {
        const peers = mesh.clusters.filter((c) => c !== cluster);
        cluster.federatedDomains = peers.map((p) => p.pki.trustDomain);
        cluster.bundles = peers.map((p) => ({ trustDomain: p.pki.trustDomain, rootPems: [p.pki.root.certificatePem] }));
    }
    const targets: DomainTarget[] = mesh.clusters.map((cluster) => ({
        name: cluster.clusterName,
        trustDomain: cluster.pki.trustDomain,
        roots: x509AuthoritiesOfBundle(cluster.pki.bundleJson),
        ingressAddress: ingressAddress(cluster),
    }));
    const clock = new FakeClock();
    const context: CheckContext = {
        target: { domains: targets, kubeconfigs: {} },
        access: Object.fromEntries(mesh.clusters.map((c) => [c.clusterName, c])),
        settings: { ...defaultCheckSettings, requests: 12, timeoutMs: 60_000, intervalMs: 5_000, istiodCertDuration: { value: configured, source: "test" } },
        clock,
    };
    return { mesh, context, clock };
}

async function runOne(context: CheckContext, id: CheckId) {
    const [result] = await runChecks(context, [id]);
    return result;
}

describe("a healthy mesh", () => {
    it.each([2, 3])("passes every check with %i domains, reporting progress per check", async (domains) => {
        const { mesh, context } = await healthyMesh(domains);
        const lines: string[] = [];
        const results = await runChecks(context, ["load-balancing", "failover", "north-south", "identity", "federation", "rotation"], (line) => lines.push(line));
        for (const result of results) expect(result.status, `${result.id}: ${result.summary}\n${result.evidence.join("\n")}`).toBe("pass");
        expect(aggregate(results).ok).toBe(true);
        expect(lines.filter((line) => /^\[\d\/6\] /.test(line))).toHaveLength(6);
        expect(lines.filter((line) => /^\s+PASS in /.test(line))).toHaveLength(6);

        const versions = Array.from({ length: domains }, (_, i) => `v${i + 1}`);
        expect(results[0].summary).toMatch(new RegExp(`^12/12 succeeded \\(${versions.map((v) => `${v}: \\d+`).join(", ")}\\)`));
        // Failover scaled the local version to zero and back, and the mesh is as it was.
        expect(mesh.clusters[0].scaleCalls).toEqual([{ name: "helloworld-v1", replicas: 0 }, { name: "helloworld-v1", replicas: 1 }]);
        expect(results[1].evidence.join("\n")).toContain("restored cluster-1 helloworld/helloworld-v1 to 1 replicas (ready)");
        expect(results[1].summary).not.toMatch(/v1:/);
        // Identity read every sample proxy: helloworld and sleep everywhere, Bookinfo's six pods in the second domain.
        const proxies = mesh.clusters.flatMap((c) => c.execLog.filter((e) => e[2] === "istio-proxy"));
        expect(proxies).toHaveLength(domains * 2 + 6);
        expect(results[3].evidence.filter((e) => e.startsWith("ok "))).toHaveLength(domains * 2 + 6);
        expect(results[3].evidence.join("\n")).toContain("leaf URI SAN spiffe://bar.com/ns/default/sa/bookinfo-productpage");
        expect(results[4].summary).toBe(`${domains * (domains - 1)} federation links, each with the peer's root`);
        expect(results[5].evidence.join("\n")).toMatch(/cluster-1 cacerts .* = 1440h, issued by the domain's root/);
    });
});

describe("load balancing", () => {
    it("fails, after retrying for the whole timeout, when a peer's versions never answer", async () => {
        const { mesh, context, clock } = await healthyMesh(2);
        mesh.unreachable.add("cluster-2");
        const result = await runOne(context, "load-balancing");
        expect(result.status).toBe("fail");
        expect(result.summary).toMatch(/^12\/12 succeeded \(v1: 12\); expected v1, v2$/);
        expect(result.evidence).toContain("never answered: v2");
        // One attempt at the start and one after each pause that still fits in the timeout.
        expect(result.attempts).toBe(context.settings.timeoutMs / context.settings.intervalMs + 1);
        expect(clock.time).toBe(context.settings.timeoutMs);
    });

    it("passes once the mesh converges, counting the attempts", async () => {
        const { mesh, context } = await healthyMesh(2);
        mesh.notConvergedBatches = 2;
        const result = await runOne(context, "load-balancing");
        expect(result.status).toBe("pass");
        expect(result.attempts).toBe(3);
    });

    it("fails a batch cut short even when every reply that came back was good, saying how many came back", async () => {
        const { mesh, context } = await healthyMesh(2);
        context.settings.timeoutMs = 0;
        mesh.cutAfterReplies = 4;
        const result = await runOne(context, "load-balancing");
        expect(result.status).toBe("fail");
        expect(result.summary).toMatch(/^4\/12 succeeded \(v1: 2, v2: 2\); batch cut short: only 5 of 12 replies came back; expected v1, v2$/);
        expect(result.evidence).toContain("failure: exec ended with exit -1: (no stderr)");
    });

    it.each(["failover", "north-south"] as const)("%s: a batch cut short fails too", async (id) => {
        const { mesh, context } = await healthyMesh(2);
        context.settings.timeoutMs = 0;
        mesh.cutAfterReplies = 6;
        const result = await runOne(context, id);
        expect(result.status).toBe("fail");
        expect(result.summary).toMatch(/batch cut short: only 7 of 12 replies came back/);
    });

    it("fails when the client pod is missing, saying so", async () => {
        const { mesh, context } = await healthyMesh(2);
        mesh.clusters[0].workloads = mesh.clusters[0].workloads.filter((w) => w.app !== "sleep");
        const result = await runOne(context, "load-balancing");
        expect(result.status).toBe("fail");
        expect(result.summary).toMatch(/no running sleep pod in namespace sleep of cluster-1/);
    });
});

describe("failover", () => {
    it("restores the replicas even when no remote version answers, and fails", async () => {
        const { mesh, context } = await healthyMesh(2);
        mesh.unreachable.add("cluster-2");
        const result = await runOne(context, "failover");
        expect(result.status).toBe("fail");
        expect(result.summary).toMatch(/^0\/12 succeeded/);
        expect(mesh.clusters[0].scaleCalls.map((c) => c.replicas)).toEqual([0, 1]);
        expect(mesh.clusters[0].workloads.find((w) => w.app === "helloworld")!.replicas).toBe(1);
        expect(result.evidence.at(-1)).toBe("restored cluster-1 helloworld/helloworld-v1 to 1 replicas (ready)");
    });

    it("fails loudly when it cannot scale back", async () => {
        const { mesh, context } = await healthyMesh(2);
        mesh.clusters[0].failScaleBack = true;
        const result = await runOne(context, "failover");
        expect(result.status).toBe("fail");
        expect(result.summary).toMatch(/^restore failed: could not restore cluster-1 helloworld\/helloworld-v1 to 1 replicas: .*scale it back by hand$/);
    });
});

describe("north-south", () => {
    it("sends the client's requests to the second domain's ingress address", async () => {
        const { mesh, context } = await healthyMesh(2);
        const result = await runOne(context, "north-south");
        expect(result.status).toBe("pass");
        expect(result.evidence[0]).toBe("12 x GET http://172.18.0.3:30080/hello from cluster-1/sleep/sleep-5f6584cc9c-0");
        expect(mesh.clusters[0].execLog[0].slice(0, 3)).toEqual(["sleep", "sleep-5f6584cc9c-0", "sleep"]);
    });

    it("fails at once without an ingress address output", async () => {
        const { context } = await healthyMesh(2);
        delete context.target.domains[1].ingressAddress;
        const result = await runOne(context, "north-south");
        expect(result).toMatchObject({ status: "fail", attempts: 1, summary: "stack output domains.cluster-2.ingressAddress is missing" });
    });
});

describe("identity", () => {
    it("catches a proxy that fell back to istiod's CA, naming the pod", async () => {
        const { mesh, context } = await healthyMesh(2);
        const cluster = mesh.clusters[1];
        const pki = cluster.pki;
        cluster.proxyOverrides.set("productpage-v1-5f6584cc9c-0", async () =>
            secretsConfigDump([await svid(pki.istiodCa, ["spiffe://bar.com/ns/default/sa/bookinfo-productpage"]), pki.istiodCa.certificatePem], mesh.allRoots()),
        );
        const result = await runOne(context, "identity");
        expect(result.status).toBe("fail");
        expect(result.summary).toMatch(/^1 workload\(s\) without a correct SPIRE identity/);
        expect(result.evidence.filter((e) => e.startsWith("FAIL"))).toEqual([
            "FAIL cluster-2 default/productpage-v1-5f6584cc9c-0: issuer lacks URI SAN spiffe://bar.com: not SPIRE's intermediate (istiod fallback?)",
        ]);
    });

    it("catches a proxy whose trust store lacks a peer's root (cross-domain calls would fail: unknown CA)", async () => {
        const { mesh, context } = await healthyMesh(2);
        const cluster = mesh.clusters[0];
        cluster.proxyOverrides.set("helloworld-v1-5f6584cc9c-0", async () =>
            secretsConfigDump(
                [await svid(cluster.pki.spireCa, ["spiffe://foo.com/ns/helloworld/sa/helloworld"]), cluster.pki.spireCa.certificatePem],
                mesh.allRoots().slice(0, 1),
            ),
        );
        const result = await runOne(context, "identity");
        expect(result.evidence.filter((e) => e.startsWith("FAIL"))).toEqual(["FAIL cluster-1 helloworld/helloworld-v1-5f6584cc9c-0: ROOTCA does not trust bar.com"]);
    });

    it("catches a pod running as the wrong service account and a workload with no pod", async () => {
        const { mesh, context } = await healthyMesh(2);
        mesh.clusters[0].workloads.find((w) => w.app === "helloworld")!.serviceAccount = "default";
        mesh.clusters[1].workloads = mesh.clusters[1].workloads.filter((w) => w.app !== "details");
        const failures = (await runOne(context, "identity")).evidence.filter((e) => e.startsWith("FAIL"));
        expect(failures).toEqual([
            "FAIL cluster-1 helloworld/helloworld-v1-5f6584cc9c-0: runs as default, expected helloworld",
            expect.stringMatching(/^FAIL cluster-1 helloworld\/helloworld-v1-5f6584cc9c-0: leaf URI SANs \["spiffe:\/\/foo.com\/ns\/helloworld\/sa\/default"\], expected exactly spiffe:\/\/foo.com\/ns\/helloworld\/sa\/helloworld$/),
            "FAIL cluster-2 default app=details: no running pod",
        ]);
    });

    it("does not retry when the stack outputs hold no root to compare with", async () => {
        const { context } = await healthyMesh(2);
        context.target.domains[0].roots = [];
        context.target.domains[0].rootsProblem = "stack output domains.cluster-1.trustBundle is missing";
        const result = await runOne(context, "identity");
        expect(result).toMatchObject({ status: "fail", attempts: 1, evidence: ["stack output domains.cluster-1.trustBundle is missing"] });
    });
});

describe("federation", () => {
    it("fails for a missing ClusterFederatedTrustDomain and for a bundle without the peer's root", async () => {
        const { mesh, context } = await healthyMesh(3);
        mesh.clusters[0].federatedDomains = ["bar.com"];
        // cluster-2 holds a bundle for foo.com that is not foo.com's root (e.g. a stale or foreign one).
        mesh.clusters[1].bundles = [
            { trustDomain: "foo.com", rootPems: [pkis[2].root.certificatePem] },
            { trustDomain: "baz.com", rootPems: [pkis[2].root.certificatePem] },
        ];
        const result = await runOne(context, "federation");
        expect(result.status).toBe("fail");
        expect(result.evidence.filter((e) => e.startsWith("FAIL"))).toEqual([
            "FAIL cluster-1 (foo.com) -> baz.com: no ClusterFederatedTrustDomain",
            "FAIL cluster-2 (bar.com) -> foo.com: bundle (1 authorities) lacks the peer's root from the stack outputs",
        ]);
        expect(result.summary).toBe("2 federation problem(s) over 6 links");
        expect(mesh.clusters[0].execLog[0]).toEqual(["spire-server", "spire-server-0", "spire-server", ...spireServerCommand]);
    });

    it("fails when a SPIRE server holds no bundle for a peer", async () => {
        const { mesh, context } = await healthyMesh(2);
        mesh.clusters[1].bundles = [];
        const result = await runOne(context, "federation");
        expect(result.evidence.filter((e) => e.startsWith("FAIL"))).toEqual(["FAIL cluster-2 (bar.com) -> foo.com: SPIRE server holds no bundle"]);
    });
});

describe("rotation", () => {
    it("fails against 720h while cacerts still holds the 1440h certificate, and passes once rotated", async () => {
        const { mesh, context } = await healthyMesh(2, "720h");
        context.settings.timeoutMs = 10_000;
        const before = await runOne(context, "rotation");
        expect(before.status).toBe("fail");
        expect(before.evidence.filter((e) => e.startsWith("FAIL"))).toEqual([
            expect.stringMatching(/^FAIL cluster-1 cacerts .* = 1440h, issued by the domain's root, expected 720h$/),
            "FAIL cluster-1 Certificate istiod-cacerts spec.duration 1440h0m0s, expected 720h",
            expect.stringMatching(/^FAIL cluster-2 cacerts .* = 1440h, issued by the domain's root, expected 720h$/),
            "FAIL cluster-2 Certificate istiod-cacerts spec.duration 1440h0m0s, expected 720h",
        ]);

        // `pulumi config set istiodCertDuration 720h && pulumi up`: cert-manager reissues.
        for (const cluster of mesh.clusters) {
            cluster.certificates = [{ metadata: { name: "istiod-cacerts" }, spec: { secretName: "cacerts", duration: "720h" } }];
            cluster.secrets["istio-system/cacerts"]["tls.crt"] = await cacertsCertificate(cluster.pki.root, 720);
        }
        // The kubelet has not refreshed the mount yet, or istiod's watcher has not reloaded it.
        const pending = await runOne(context, "rotation");
        expect(pending.status).toBe("fail");
        const notLoaded = pending.evidence.filter((e) => e.startsWith("FAIL"));
        expect(notLoaded).toHaveLength(2);
        for (const [index, line] of notLoaded.entries()) {
            const cluster = mesh.clusters[index];
            const expiry = (pem: string) => new Date(new X509Certificate(pem).validTo).toISOString();
            expect(line).toBe(
                `FAIL ${cluster.clusterName} istiod-6d8f7b9c4d-x2k5p: istiod signs with an intermediate expiring ${expiry(cluster.istiodLoaded!.signingPem)}, ` +
                    `Secret istio-system/cacerts holds one expiring ${expiry(cluster.secrets["istio-system/cacerts"]["tls.crt"])}: the new intermediate is not loaded (yet)`,
            );
        }

        for (const cluster of mesh.clusters) cluster.istiodLoaded = { signingPem: cluster.secrets["istio-system/cacerts"]["tls.crt"], rootPem: cluster.pki.root.certificatePem };
        const after = await runOne(context, "rotation");
        expect(after.status).toBe("pass");
        expect(after.summary).toBe("cacerts lifetime 720h in every domain, loaded by istiod");
        expect(after.evidence.filter((e) => /istiod loaded the cacerts intermediate/.test(e))).toHaveLength(2);
        expect(new X509Certificate(mesh.clusters[0].secrets["istio-system/cacerts"]["tls.crt"]).ca).toBe(true);
    });

    it("fails when istiod has no cacerts at all (self-signed istiod CA)", async () => {
        const { mesh, context } = await healthyMesh(2);
        delete mesh.clusters[1].secrets["istio-system/cacerts"];
        mesh.clusters[1].certificates = [];
        const result = await runOne(context, "rotation");
        expect(result.evidence.filter((e) => e.startsWith("FAIL"))).toEqual([
            "FAIL cluster-2: no certificate in Secret istio-system/cacerts (tls.crt or ca-cert.pem)",
            "FAIL cluster-2: no cert-manager Certificate with secretName cacerts and a duration in istio-system",
        ]);
    });
});

describe("rotation: what istiod loaded", () => {
    it("retries until istiod has reloaded the rotated intermediate", async () => {
        const { mesh, context, clock } = await healthyMesh(2);
        const cluster = mesh.clusters[0];
        const previous = cluster.istiodLoaded!;
        // Still the intermediate from before the rotation (issued with another lifetime, so it expires at another time).
        cluster.istiodLoaded = { ...previous, signingPem: await cacertsCertificate(cluster.pki.root, 720) };
        // istiod's file watcher picks the mounted Secret up a little later.
        const sleep = clock.sleep.bind(clock);
        clock.sleep = async (ms) => {
            await sleep(ms);
            if (clock.time >= 15_000) cluster.istiodLoaded = previous;
        };
        const result = await runOne(context, "rotation");
        expect(result.status).toBe("pass");
        expect(result.attempts).toBe(4);
    });

    it("fails when istiod runs on its own self-signed CA, or loaded another root", async () => {
        const { mesh, context } = await healthyMesh(2);
        context.settings.timeoutMs = 0;
        mesh.clusters[0].istiodLoaded = undefined;
        const otherRoot = await issueCertificate({ subject: "CN=another root", subjectKeyPem: generateTestKeyPair("ecdsa-p256").privateKeyPem, isCa: true, validityHours: 24 * 3650 });
        mesh.clusters[1].istiodLoaded = { ...mesh.clusters[1].istiodLoaded!, rootPem: otherRoot };
        const result = await runOne(context, "rotation");
        expect(result.status).toBe("fail");
        expect(result.evidence.filter((e) => e.startsWith("FAIL"))).toEqual([
            "FAIL cluster-1 istiod-6d8f7b9c4d-x2k5p: its metrics carry no signing-certificate expiry (istiod not running on the plugged-in cacerts?)",
            expect.stringMatching(/^FAIL cluster-2 istiod-6d8f7b9c4d-x2k5p: istiod's root expires .*, the Secret's root /),
        ]);
    });

    it("fails at once, naming the CLI's error, when the configured duration could not be read", async () => {
        const { context } = await healthyMesh(2);
        context.settings.istiodCertDuration = { problem: "pulumi config get spire-istio-mesh:istiodCertDuration --stack cluster-kind failed (exit 255): error: passphrase must be set" };
        const result = await runOne(context, "rotation");
        expect(result).toMatchObject({ status: "fail", attempts: 1 });
        expect(result.summary).toBe(`expected cacerts lifetime unknown: ${context.settings.istiodCertDuration.problem}`);
    });
});

describe("runChecks", () => {
    it("keeps going after a check that throws, reporting the error as its failure", async () => {
        const { mesh, context } = await healthyMesh(2);
        mesh.clusters[0].listCustomObjects = async () => {
            throw new Error("connect ECONNREFUSED 127.0.0.1:40000");
        };
        context.settings.timeoutMs = 0;
        const results = await runChecks(context, ["federation", "identity"]);
        expect(results.map((r) => [r.id, r.status])).toEqual([
            ["federation", "fail"],
            ["identity", "pass"],
        ]);
        expect(results[0].summary).toBe("error: connect ECONNREFUSED 127.0.0.1:40000");
    });
});
