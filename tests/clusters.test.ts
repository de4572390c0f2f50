import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { nodeServiceAccountId } from "../components/gkeCluster";
import { loadMeshConfig } from "../config/load";
import { deployMesh } from "../mesh";
import { DeclaredResource, isSecretOutput, resolve, runProgram, runProgramOnce } from "./harness/program";
import { expectedDeletedWith } from "./harness/lifecycle";
import { clusterCa } from "./harness/mocks";
import { projectConfigOf, stackNames, withThirdDomain } from "./harness/stacks";

const program = () => deployMesh(loadMeshConfig());

/**
 * The node image kind v0.31.0 creates clusters with by default (kind's
 * pkg/apis/config/defaults/image.go at v0.31.0): the program pins the same tag and digest.
 */
const kindV031DefaultImage = "kindest/node:v1.35.0@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f";

describe("kind stack", () => {
    it("creates one kind cluster and one provider per domain, deleting the cluster on destroy", async () => {
        const run = await runProgramOnce(program, { stack: "cluster-kind" });
        const commands = run.ofType("command:local:Command");
        expect(commands.map((c) => c.name).sort()).toEqual(["cluster-1-kind", "cluster-2-kind"]);
        for (const name of ["cluster-1", "cluster-2"]) {
            const create = run.one("command:local:Command", `${name}-kind`).inputs;
            expect(create.create).toContain(`name='${name}'`);
            expect(create.create).toContain(`kind create cluster --name "$name" --image '${kindV031DefaultImage}'`);
            expect(create.delete).toBe(`kind delete cluster --name '${name}' 1>&2`);
            // A new node image or kind config replaces the cluster (only a new cluster applies
            // them); kind cannot create a second of the same name while the old one exists.
            expect(create.triggers).toEqual([kindV031DefaultImage, create.stdin]);
            expect(run.one("command:local:Command", `${name}-kind`).deleteBeforeReplace).toBe(true);
            // kind prints to stderr only: nothing secret is streamed into Pulumi's log.
            expect(create.create).toMatch(/1>&2$/);
            expect(parse(String(create.stdin))).toMatchObject({ kind: "Cluster", apiVersion: "kind.x-k8s.io/v1alpha4" });
        }
        const providers = run.ofType("pulumi:providers:kubernetes");
        expect(providers.map((p) => p.name).sort()).toEqual(["cluster-1", "cluster-2"]);
        for (const provider of providers) {
            // Tied to the created cluster's ID: a replaced cluster replaces every object in it.
            const lifecycle = run.one("command:local:Command", `${provider.name}-kind`);
            expect(lifecycle.id).not.toBe("");
            expect(provider.inputs.clusterIdentifier).toBe(`kind-${provider.name}-${lifecycle.id}`);
            expect(parse(String(provider.inputs.kubeconfig))["current-context"]).toBe(`kind-${provider.name}`);
        }
    });

    it("creates a cluster and a provider for each of three domains the same way", async () => {
        const run = await runProgramOnce(program, { stack: "cluster-kind", projectConfig: withThirdDomain("cluster-kind") });
        expect(run.ofType("command:local:Command").map((c) => c.name).sort()).toEqual(["cluster-1-kind", "cluster-2-kind", "cluster-3-kind"]);
        expect(
            run.ofType("pulumi:providers:kubernetes").map((p) => p.inputs.clusterIdentifier.replace(/-cluster-\d-kind-id$/, "")).sort(),
        ).toEqual(["kind-cluster-1", "kind-cluster-2", "kind-cluster-3"]);
        const addresses = await Promise.all(run.result.domains.map((d) => resolve(d.cluster.nodeAddress!)));
        expect(new Set(addresses).size).toBe(3);
    });

    it("asks kind and docker nothing in a first preview, when no cluster exists yet to answer", async () => {
        // The command provider knows a new command's ID in a preview (the mocks do as it does), so
        // reads keyed on the ID would run before `kind create cluster` and fail the first `pulumi up`.
        const run = await runProgram(program, { stack: "cluster-kind", preview: true });
        const reads = run.invoked.filter((i) => i.token === "command:local:run").map((i) => String(i.args.command));
        expect(reads).toEqual([]);
        expect(run.ofType("command:local:Command")).toHaveLength(2);
    });

    it("reads each kubeconfig without logging it (it holds the cluster-admin key)", async () => {
        const run = await runProgramOnce(program, { stack: "cluster-kind" });
        const reads = run.invoked.filter((i) => i.token === "command:local:run" && String(i.args.command).startsWith("kind get kubeconfig"));
        expect(reads).toHaveLength(2);
        for (const read of reads) expect(read.args.logging).toBe("none");
    });

    it("gives peers the API server on the kind network, never 127.0.0.1", async () => {
        const run = await runProgramOnce(program, { stack: "cluster-kind" });
        const urls = await Promise.all(run.result.domains.map((d) => resolve(d.cluster.apiServerUrl)));
        const addresses = await Promise.all(run.result.domains.map((d) => resolve(d.cluster.nodeAddress!)));
        urls.forEach((url, index) => expect(url).toBe(`https://${addresses[index]}:6443`));
        expect(new Set(addresses).size).toBe(2);
        for (const url of urls) expect(url).not.toContain("127.0.0.1");
        expect(await isSecretOutput(run.result.kubeconfigs)).toBe(true);
        for (const domain of run.result.domains) expect(await isSecretOutput(domain.cluster.kubeconfig)).toBe(true);
    });

    it("adopts an existing kind context without creating or deleting anything", async () => {
        const config = withThirdDomain("cluster-kind");
        const domains = (config.domains as Record<string, unknown>[]).map((d) => ({ ...d, kind: { context: `kind-existing-${d.name}` } }));
        const run = await runProgramOnce(program, { stack: "cluster-kind", projectConfig: { ...config, domains } });
        expect(run.ofType("command:local:Command")).toEqual([]);
        expect(run.ofType("pulumi:providers:kubernetes").map((p) => p.inputs.clusterIdentifier).sort()).toEqual([
            "kind-existing-cluster-1",
            "kind-existing-cluster-2",
            "kind-existing-cluster-3",
        ]);
        for (const domain of run.result.domains) expect(domain.cluster.lifecycleOwner).toBeUndefined();
    });
});

describe("gke stack", () => {
    it("creates a hardened GKE Standard cluster, node pool, service account and provider per domain", async () => {
        const run = await runProgramOnce(program, { stack: "cluster-gke" });
        const clusters = run.ofType("gcp:container/cluster:Cluster");
        expect(clusters.map((c) => c.inputs.name).sort()).toEqual(["cluster-1", "cluster-2"]);
        for (const cluster of clusters) {
            expect(cluster.inputs).toMatchObject({
                removeDefaultNodePool: true,
                initialNodeCount: 1,
                releaseChannel: { channel: "REGULAR" },
                deletionProtection: true,
                enableShieldedNodes: true,
                enableLegacyAbac: false,
                workloadIdentityConfig: { workloadPool: "multi-mesh-demo.svc.id.goog" },
                masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
            });
            expect(cluster.inputs.enableAutopilot).toBeUndefined();
        }
        const pools = run.ofType("gcp:container/nodePool:NodePool");
        expect(pools).toHaveLength(2);
        for (const pool of pools) {
            expect(pool.inputs.nodeCount).toBe(3);
            expect(pool.inputs.nodeConfig).toMatchObject({
                machineType: "e2-standard-4",
                workloadMetadataConfig: { mode: "GKE_METADATA" },
                shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
            });
            // Nodes run as the dedicated account, not the Compute Engine default.
            expect(pool.inputs.nodeConfig.serviceAccount).toMatch(/^cluster-\d-nodes@multi-mesh-demo\.iam\.gserviceaccount\.com$/);
        }
        const providers = run.ofType("pulumi:providers:kubernetes");
        expect(providers).toHaveLength(2);
        for (const provider of providers) {
            expect(provider.inputs.clusterIdentifier).toMatch(/^projects\/multi-mesh-demo\/locations\/us-central1-[ab]\/clusters\/cluster-\d$/);
            const kubeconfig = parse(String(provider.inputs.kubeconfig));
            expect(kubeconfig.users[0].user.exec.command).toBe("gke-gcloud-auth-plugin");
            expect(kubeconfig.users[0].user.exec.apiVersion).toBe("client.authentication.k8s.io/v1beta1");
            // The application-default credentials, which the gcp provider uses too, not the
            // plugin's default of gcloud's logged-in user.
            expect(kubeconfig.users[0].user.exec.args).toEqual(["--use_application_default_credentials"]);
        }
    });

    it("follows config for deletion protection, release channel and machine shape", async () => {
        const config = withThirdDomain("cluster-gke");
        const run = await runProgramOnce(program, {
            stack: "cluster-gke",
            projectConfig: { ...config, gkeDeletionProtection: false, gkeReleaseChannel: "STABLE" },
        });
        const clusters = run.ofType("gcp:container/cluster:Cluster");
        expect(clusters).toHaveLength(3);
        for (const cluster of clusters) {
            expect(cluster.inputs.deletionProtection).toBe(false);
            expect(cluster.inputs.releaseChannel).toEqual({ channel: "STABLE" });
        }
        expect(run.ofType("gcp:container/nodePool:NodePool")).toHaveLength(3);
        expect(run.ofType("pulumi:providers:kubernetes")).toHaveLength(3);
    });

    it("leaves the API server open by default, and admits only the configured networks when told them", async () => {
        const open = await runProgramOnce(program, { stack: "cluster-gke" });
        for (const cluster of open.ofType("gcp:container/cluster:Cluster")) expect(cluster.inputs.masterAuthorizedNetworksConfig).toBeUndefined();
        const networks = ["198.51.100.0/24", "203.0.113.9/32"];
        const restricted = await runProgramOnce(program, {
            stack: "cluster-gke",
            projectConfig: { ...projectConfigOf("cluster-gke"), gkeMasterAuthorizedNetworks: networks },
        });
        const clusters = restricted.ofType("gcp:container/cluster:Cluster");
        expect(clusters).toHaveLength(2);
        for (const cluster of clusters) {
            const blocks = cluster.inputs.masterAuthorizedNetworksConfig.cidrBlocks as { cidrBlock: string }[];
            expect(blocks.map((block) => block.cidrBlock)).toEqual(networks);
        }
    });

    it("outputs the public endpoint as the API server URL peers use", async () => {
        const run = await runProgramOnce(program, { stack: "cluster-gke" });
        for (const domain of run.result.domains) {
            const cluster = run.ofType("gcp:container/cluster:Cluster").find((c) => c.inputs.name === domain.config.name)!;
            const url = await resolve(domain.cluster.apiServerUrl);
            expect(url).toMatch(/^https:\/\/198\.51\.100\.\d+$/);
            expect(cluster.name).toBe(domain.config.name);
        }
    });
});

describe.each(stackNames)("%s: every Kubernetes object has an explicit provider", (stack) => {
    it("declares no Kubernetes resource on a default provider", async () => {
        const run = await runProgramOnce(program, { stack });
        const kubernetes = run.resources.filter(
            (r: DeclaredResource) => r.custom && r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:providers:"),
        );
        expect(kubernetes.length).toBeGreaterThan(0);
        for (const resource of kubernetes) {
            expect(resource.provider, `${resource.type} ${resource.name}`).toMatch(/pulumi:providers:kubernetes::cluster-\d$/);
        }
    });
});

describe("destroy", () => {
    it("marks objects in a created kind cluster deletedWith the cluster, so destroy does not wait on each", async () => {
        const run = await runProgramOnce(program, { stack: "cluster-kind" });
        const objects = run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:"));
        expect(objects.length).toBeGreaterThan(0);
        for (const object of objects) {
            const cluster = object.provider.split("::").pop()!;
            expect(object.deletedWith, object.name).toBe(run.one("command:local:Command", `${cluster}-kind`).urn);
        }
    });

    it("marks objects in a GKE cluster deletedWith it, except those owning load balancers and disks", async () => {
        const run = await runProgramOnce(program, { stack: "cluster-gke" });
        const objects = run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:"));
        expect(objects.length).toBeGreaterThan(0);
        const deletedOnTheirOwn = objects.filter((o) => o.deletedWith === "").map((o) => o.name).sort();
        // Per cluster: the bundle endpoint LoadBalancer, the SPIRE namespace (its PVC's disk) and
        // the two gateway charts (their LoadBalancers).
        expect(deletedOnTheirOwn).toEqual(
            ["cluster-1", "cluster-2"]
                .flatMap((c) => [`${c}-spire-bundle-endpoint`, `${c}-spire`, `${c}-istio-eastwestgateway`, `${c}-istio-ingressgateway`])
                .sort(),
        );
        for (const object of objects) {
            const cluster = object.provider.split("::").pop()!;
            expect(object.deletedWith, object.name).toBe(expectedDeletedWith(run, "cluster-gke", cluster, object));
        }
    });

    it("protects GKE clusters and node pools while deletion protection is on, so destroy stops before its first step", async () => {
        const protectedRun = await runProgramOnce(program, { stack: "cluster-gke" });
        const config = projectConfigOf("cluster-gke");
        const unprotectedRun = await runProgramOnce(program, { stack: "cluster-gke", projectConfig: { ...config, gkeDeletionProtection: false } });
        for (const type of ["gcp:container/cluster:Cluster", "gcp:container/nodePool:NodePool"]) {
            expect(protectedRun.ofType(type).map((r) => r.protect)).toEqual([true, true]);
            expect(unprotectedRun.ofType(type).map((r) => r.protect)).toEqual([false, false]);
        }
    });

    it("deletes objects one by one in an existing cluster it does not own", async () => {
        const config = projectConfigOf("cluster-kind");
        const domains = (config.domains as Record<string, unknown>[]).map((d) => ({ ...d, kind: { context: `kind-${d.name}` } }));
        const run = await runProgramOnce(program, { stack: "cluster-kind", projectConfig: { ...config, domains } });
        const objects = run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:"));
        expect(objects.length).toBeGreaterThan(0);
        for (const object of objects) expect(object.deletedWith, object.name).toBe("");
    });
});

describe("wiring inside each cluster", () => {
    it.each(stackNames)("%s: istio-system carries the domain's network before istiod and cacerts use it", async (stack) => {
        const run = await runProgramOnce(program, { stack, projectConfig: withThirdDomain(stack) });
        const networks: Record<string, string> = { "cluster-1": "foo-network", "cluster-2": "bar-network", "cluster-3": "baz-network" };
        const namespaces = run.ofType("kubernetes:core/v1:Namespace").filter((n) => n.inputs.metadata.name === "istio-system");
        expect(namespaces).toHaveLength(3);
        for (const namespace of namespaces) {
            const cluster = namespace.provider.split("::").pop()!;
            expect(namespace.inputs.metadata.labels).toEqual({ "topology.istio.io/network": networks[cluster] });
            // A data dependency: istiod and the cacerts Certificate take the namespace from it.
            expect(run.one("kubernetes:helm.sh/v3:Release", `${cluster}-istiod`).dependsOn).toContain(namespace.urn);
            expect(run.one("kubernetes:cert-manager.io/v1:Certificate", `${cluster}-istiod-cacerts`).dependsOn).toContain(namespace.urn);
        }
    });

    it("gives each GKE node pool its own cluster, location and service account, and each kubeconfig its own cluster", async () => {
        const run = await runProgramOnce(program, { stack: "cluster-gke" });
        const accounts = run.ofType("gcp:serviceaccount/account:Account");
        expect(new Set(accounts.map((a) => a.inputs.accountId)).size).toBe(2);
        for (const cluster of run.ofType("gcp:container/cluster:Cluster")) {
            const name = cluster.inputs.name as string;
            const pool = run.one("gcp:container/nodePool:NodePool", `${name}-nodes`);
            expect(pool.inputs.cluster).toBe(name);
            expect(pool.inputs.location).toBe(cluster.inputs.location);
            expect(pool.inputs.nodeConfig.serviceAccount).toBe(`${name}-nodes@multi-mesh-demo.iam.gserviceaccount.com`);
            const kubeconfig = parse(String(run.one("pulumi:providers:kubernetes", name).inputs.kubeconfig));
            const component = run.result.domains.find((d) => d.config.name === name)!.cluster;
            expect(kubeconfig.clusters[0].cluster.server).toBe(await resolve(component.apiServerUrl));
            // The cluster's own CA as GKE reports it (each mock cluster has its own).
            const ca = Buffer.from(kubeconfig.clusters[0].cluster["certificate-authority-data"], "base64").toString();
            expect(ca).toBe(await clusterCa(name));
        }
        const servers = run.ofType("pulumi:providers:kubernetes").map((p) => parse(String(p.inputs.kubeconfig)).clusters[0].cluster.server);
        expect(new Set(servers).size).toBe(2);
    });

    it.each(stackNames)("%s: cert-manager's remote component is deleted with a created cluster and hands its Release the cluster's provider", async (stack) => {
        const run = await runProgramOnce(program, { stack });
        const certManagers = run.ofType("kubernetes-cert-manager:index:CertManager");
        expect(certManagers).toHaveLength(2);
        for (const certManager of certManagers) {
            // `providers`, which reaches the child Release the plugin creates; `provider` would
            // only be sent for a provider of the component's own package.
            expect(certManager.remote).toBe(true);
            expect(certManager.provider).toBe("");
            expect(certManager.providers.kubernetes).toMatch(/pulumi:providers:kubernetes::cluster-\d$/);
            const cluster = certManager.providers.kubernetes.split("::").pop()!;
            expect(certManager.deletedWith).toBe(expectedDeletedWith(run, stack, cluster, certManager));
            expect(certManager.deletedWith).not.toBe("");
        }
    });
});

describe("unreachable clusters", () => {
    /** Runs with PULUMI_K8S_DELETE_UNREACHABLE as given (undefined: unset), restoring it afterwards. */
    async function providersWith(stack: "cluster-kind" | "cluster-gke", value: string | undefined): Promise<DeclaredResource[]> {
        const saved = process.env.PULUMI_K8S_DELETE_UNREACHABLE;
        if (value === undefined) delete process.env.PULUMI_K8S_DELETE_UNREACHABLE;
        else process.env.PULUMI_K8S_DELETE_UNREACHABLE = value;
        try {
            return (await runProgram(program, { stack })).ofType("pulumi:providers:kubernetes");
        } finally {
            if (saved === undefined) delete process.env.PULUMI_K8S_DELETE_UNREACHABLE;
            else process.env.PULUMI_K8S_DELETE_UNREACHABLE = saved;
        }
    }

    it.each(stackNames)("%s: a refresh against an unreachable cluster fails instead of dropping its objects from state", async (stack) => {
        const providers = await providersWith(stack, undefined);
        expect(providers).toHaveLength(2);
        for (const provider of providers) expect(provider.inputs, provider.name).not.toHaveProperty("deleteUnreachable");
    });

    it.each(stackNames)("%s: PULUMI_K8S_DELETE_UNREACHABLE=true still reaches the providers for a cluster that is really gone", async (stack) => {
        const providers = await providersWith(stack, "true");
        expect(providers).toHaveLength(2);
        for (const provider of providers) expect(provider.inputs.deleteUnreachable, provider.name).toBe("true");
    });
});

describe("kind cluster lifecycle, run against a stand-in kind", () => {
    const scratch = mkdtempSync(join(tmpdir(), "kind-lifecycle-"));
    afterAll(() => rmSync(scratch, { recursive: true, force: true }));

    // Records every call; lists the clusters named in $STUB_CLUSTERS; `create cluster` writes a
    // kubeconfig where kind would (--kubeconfig, else $KUBECONFIG, else ~/.kube/config) and keeps
    // the config it read on stdin.
    const stubKind = [
        "#!/bin/sh",
        'printf \'%s\\n\' "$*" >> "$STUB_LOG"',
        'case "$1 $2" in',
        '"get clusters")',
        '  if [ -n "${STUB_LIST_FAILS:-}" ]; then echo "Cannot connect to the Docker daemon" >&2; exit 1; fi',
        '  cat "$STUB_CLUSTERS" ;;',
        '"create cluster")',
        '  out=""',
        '  while [ $# -gt 0 ]; do if [ "$1" = --kubeconfig ]; then out="$2"; fi; shift; done',
        '  if [ -z "$out" ]; then out="${KUBECONFIG:-$HOME/.kube/config}"; fi',
        '  mkdir -p "$(dirname "$out")"',
        '  echo "client-key-data: secret" > "$out"',
        '  printf \'%s\\n\' "$out" >> "$STUB_KUBECONFIGS"',
        '  cat > "$STUB_STDIN"',
        '  if [ -n "${STUB_CREATE_FAILS:-}" ]; then echo "failed to create cluster" >&2; exit 1; fi ;;',
        "esac",
    ].join("\n");

    interface ScriptRun {
        status: number | null;
        stderr: string;
        /** Arguments of every kind call, in order. */
        calls: string[];
        /** Where kind was told to write kubeconfigs. */
        kubeconfigPaths: string[];
        stdinSeenByCreate: string | undefined;
        home: string;
        tmp: string;
    }

    let runs = 0;
    function runScript(
        script: string,
        options: { existing: string[]; stdin?: string; listFails?: boolean; createFails?: boolean },
    ): ScriptRun {
        const dir = join(scratch, `run-${runs++}`);
        const [bin, home, tmp] = ["bin", "home", "tmp"].map((sub) => join(dir, sub));
        for (const sub of [bin, home, tmp]) mkdirSync(sub, { recursive: true });
        writeFileSync(join(bin, "kind"), stubKind);
        chmodSync(join(bin, "kind"), 0o755);
        writeFileSync(join(dir, "clusters"), options.existing.map((name) => `${name}\n`).join(""));
        const files = { log: join(dir, "log"), kubeconfigs: join(dir, "kubeconfigs"), stdin: join(dir, "stdin") };
        const result = spawnSync("/bin/sh", ["-c", script], {
            input: options.stdin ?? "",
            encoding: "utf8",
            // A clean environment: no KUBECONFIG of the developer's, HOME and TMPDIR of the run's own.
            env: {
                PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
                HOME: home,
                TMPDIR: tmp,
                STUB_LOG: files.log,
                STUB_CLUSTERS: join(dir, "clusters"),
                STUB_KUBECONFIGS: files.kubeconfigs,
                STUB_STDIN: files.stdin,
                ...(options.listFails ? { STUB_LIST_FAILS: "1" } : {}),
                ...(options.createFails ? { STUB_CREATE_FAILS: "1" } : {}),
            },
        });
        const lines = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);
        return {
            status: result.status,
            stderr: result.stderr,
            calls: lines(files.log),
            kubeconfigPaths: lines(files.kubeconfigs),
            stdinSeenByCreate: existsSync(files.stdin) ? readFileSync(files.stdin, "utf8") : undefined,
            home,
            tmp,
        };
    }

    async function lifecycleOf(name: string) {
        const run = await runProgramOnce(program, { stack: "cluster-kind" });
        return run.one("command:local:Command", `${name}-kind`).inputs as Record<string, string>;
    }

    it("creates a missing cluster from the declared image and config, writing its kubeconfig to a temporary file it removes", async () => {
        const lifecycle = await lifecycleOf("cluster-1");
        const result = runScript(lifecycle.create, { existing: ["cluster-2"], stdin: lifecycle.stdin });
        expect(result.status, result.stderr).toBe(0);
        const creates = result.calls.filter((call) => call.startsWith("create cluster"));
        expect(creates).toHaveLength(1);
        expect(creates[0]).toMatch(new RegExp(`^create cluster --name cluster-1 --image ${kindV031DefaultImage.replace(/[.]/g, "\\.")} --config - --kubeconfig \\S+ --wait 5m$`));
        expect(result.stdinSeenByCreate).toBe(lifecycle.stdin);
        // Not the user's kubeconfig: the file kind wrote was a temporary one, and it is gone.
        expect(result.kubeconfigPaths).toHaveLength(1);
        expect(result.kubeconfigPaths[0].startsWith(result.tmp)).toBe(true);
        expect(existsSync(result.kubeconfigPaths[0])).toBe(false);
        expect(existsSync(join(result.home, ".kube"))).toBe(false);
        expect(readdirSync(result.tmp)).toEqual([]);
    });

    it("leaves an existing cluster alone on create, telling exact names apart", async () => {
        const lifecycle = await lifecycleOf("cluster-1");
        const existing = runScript(lifecycle.create, { existing: ["cluster-10", "cluster-1"], stdin: lifecycle.stdin });
        expect(existing.status, existing.stderr).toBe(0);
        expect(existing.calls).toEqual(["get clusters"]);
        expect(existing.stderr).toMatch(/cluster-1 already exists/);
        // A cluster whose name only starts the same is another cluster: cluster-1 is still created.
        const similar = runScript(lifecycle.create, { existing: ["cluster-10"], stdin: lifecycle.stdin });
        expect(similar.status, similar.stderr).toBe(0);
        expect(similar.calls.filter((call) => call.startsWith("create cluster"))).toHaveLength(1);
    });

    it("fails when kind create fails, still removing the temporary kubeconfig", async () => {
        const lifecycle = await lifecycleOf("cluster-1");
        const result = runScript(lifecycle.create, { existing: [], stdin: lifecycle.stdin, createFails: true });
        expect(result.status).not.toBe(0);
        expect(result.kubeconfigPaths).toHaveLength(1);
        expect(readdirSync(result.tmp)).toEqual([]);
    });

    it("stops without creating when kind cannot list clusters", async () => {
        const lifecycle = await lifecycleOf("cluster-1");
        for (const script of [lifecycle.create, lifecycle.update]) {
            const result = runScript(script, { existing: [], stdin: lifecycle.stdin, listFails: true });
            expect(result.status).not.toBe(0);
            expect(result.calls).toEqual(["get clusters"]);
        }
    });

    it("has an update of its own, which never creates or deletes a cluster", async () => {
        const lifecycle = await lifecycleOf("cluster-2");
        // pulumi-command runs `create` on an update when `update` is unset.
        expect(typeof lifecycle.update).toBe("string");
        const live = runScript(lifecycle.update, { existing: ["cluster-1", "cluster-2"], stdin: lifecycle.stdin });
        expect(live.status, live.stderr).toBe(0);
        expect(live.calls).toEqual(["get clusters"]);
        // A cluster deleted behind Pulumi's back: the update fails and points at the recovery.
        const gone = runScript(lifecycle.update, { existing: ["cluster-1"], stdin: lifecycle.stdin });
        expect(gone.status).not.toBe(0);
        expect(gone.calls).toEqual(["get clusters"]);
        expect(gone.stderr).toMatch(/cluster-2 no longer exists.*README/);
    });
});

describe("GKE nodes", () => {
    it("run every node, the default pool's too, as the node account on a modest balanced disk", async () => {
        const run = await runProgramOnce(program, { stack: "cluster-gke" });
        for (const cluster of run.ofType("gcp:container/cluster:Cluster")) {
            const name = cluster.inputs.name as string;
            const account = run.one("gcp:serviceaccount/account:Account", `${name}-nodes`);
            const email = `${account.inputs.accountId}@multi-mesh-demo.iam.gserviceaccount.com`;
            const pool = run.one("gcp:container/nodePool:NodePool", `${name}-nodes`);
            for (const nodeConfig of [cluster.inputs.nodeConfig, pool.inputs.nodeConfig]) {
                expect(nodeConfig).toMatchObject({
                    serviceAccount: email,
                    diskSizeGb: 50,
                    diskType: "pd-balanced",
                    machineType: "e2-standard-4",
                    workloadMetadataConfig: { mode: "GKE_METADATA" },
                    shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
                });
            }
            // The default pool is gone once the cluster exists, and a change of the cluster's
            // nodeConfig would replace the cluster: ignored after create.
            expect(cluster.ignoreChanges).toEqual(["nodeConfig"]);
            expect(pool.ignoreChanges).toEqual([]);
        }
    });

    it("follows each domain's disk settings", async () => {
        const config = projectConfigOf("cluster-gke");
        const domains = (config.domains as Record<string, Record<string, unknown>>[]).map((d) => structuredClone(d));
        domains[1].gke = { ...domains[1].gke, diskSizeGb: 200, diskType: "pd-ssd" };
        const run = await runProgram(program, { stack: "cluster-gke", projectConfig: { ...config, domains } });
        const disk = (resource: DeclaredResource) => [resource.inputs.nodeConfig.diskSizeGb, resource.inputs.nodeConfig.diskType];
        expect(disk(run.one("gcp:container/nodePool:NodePool", "cluster-1-nodes"))).toEqual([50, "pd-balanced"]);
        expect(disk(run.one("gcp:container/nodePool:NodePool", "cluster-2-nodes"))).toEqual([200, "pd-ssd"]);
        expect(disk(run.one("gcp:container/cluster:Cluster", "cluster-2"))).toEqual([200, "pd-ssd"]);
    });

    it("gives two long, similar domain names two valid node accounts", async () => {
        const config = projectConfigOf("cluster-gke");
        // 39 characters each, equal in their first 30, which end in '-'.
        const names = ["trust-domain-alpha-production-cluster-1", "trust-domain-alpha-production-cluster-2"];
        const domains = (config.domains as Record<string, unknown>[]).map((d, index) => ({ ...d, name: names[index] }));
        const run = await runProgram(program, { stack: "cluster-gke", projectConfig: { ...config, domains } });
        const ids = run.ofType("gcp:serviceaccount/account:Account").map((a) => a.inputs.accountId as string);
        expect(ids).toHaveLength(2);
        expect(new Set(ids).size).toBe(2);
        for (const id of ids) {
            // GCP's rule for a service-account ID.
            expect(id).toMatch(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/);
        }
        for (const name of names) {
            const pool = run.one("gcp:container/nodePool:NodePool", `${name}-nodes`);
            const account = run.one("gcp:serviceaccount/account:Account", `${name}-nodes`);
            expect(pool.inputs.nodeConfig.serviceAccount).toBe(`${account.inputs.accountId}@multi-mesh-demo.iam.gserviceaccount.com`);
        }
    });

    it.each([
        ["a", "readable"],
        ["cluster-1", "readable"],
        ["abcdefghijklmnopqrstuvwx", "readable"], // 24 characters: "-nodes" still fits in 30
        ["abcdefghijklmnopqrstuvwxy", "hashed"],
        ["abcdefghijklmnopqrstu-wxyz-0123", "hashed"], // the cut lands just after a '-'
        ["a-------------------------------------z", "hashed"],
        ["z123456789012345678901234567890123456789", "hashed"], // 40 characters, the longest name allowed
    ])("node account ID for %s is valid (%s)", (name, form) => {
        const id = nodeServiceAccountId(name);
        expect(id).toMatch(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/);
        if (form === "readable") expect(id).toBe(`${name}-nodes`);
        else {
            // Readable still: it starts with as much of the name as fits.
            const prefix = id.slice(0, id.lastIndexOf("-"));
            expect(prefix.length).toBeGreaterThan(0);
            expect(name.startsWith(prefix)).toBe(true);
            // The whole name decides the ID: changing only its last character changes it.
            expect(nodeServiceAccountId(`${name.slice(0, -1)}${name.endsWith("z") ? "y" : "z"}`)).not.toBe(id);
        }
    });
});
