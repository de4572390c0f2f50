/**
 * The scenario of issue 11 through the real Pulumi engine: the project's own program deploys a
 * two-domain mesh on platform `existing` onto local control planes (e2e/cluster.sh), from the
 * chart mirror (e2e/charts), with each domain's root supplied in config, then adds a third domain;
 * independent checks read the API servers with kubectl and the engine's state.
 *
 *   npm run e2e:local                           # one stack: two domains, then a third (issue 11)
 *   npm run e2e:local -- --scenario cross-stack # one stack per domain, federated through outputs (issue 12)
 *   npm run e2e:local -- --break crd-order      # a deliberate bug: passes only if the right phase catches it
 *
 * The program runs inline through the Automation API: the CLI connects to a language host inside
 * this process, so no `pulumi-language-nodejs` is needed (it cannot be built here, e2e/README.md).
 * Progress on stderr, a summary table, `.e2e-cache/report.json`; logs kept on failure; exit 1 on
 * any failure. Every process started here is stopped, also on failure or Ctrl-C.
 */
import { ChildProcess, execFile, spawn } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import * as pulumi from "@pulumi/pulumi";
import { ConfigMap, EngineEvent, LocalWorkspace, OpMap, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { defaultVersions } from "../versions";
import { applyBreak, Break, breaks, programEntries } from "./breaks";
import { criticalPath, crdOrderProblems, longestChain, providerRetries, StateResource, stepsByOp } from "./engineState";

const root = path.resolve(__dirname, "..");
const cache = process.env.E2E_CACHE ?? path.join(root, ".e2e-cache");
const work = path.join(cache, "local");
const logs = path.join(work, "logs");
const run = promisify(execFile);
const bin = (family: string, name: string): string => path.join(cache, "bin", family, "current", name);

/** One trust domain of the scenario and the local cluster it runs on. */
interface Domain {
    name: string;
    trustDomain: string;
    network: string;
    address: string;
    kubeconfig: string;
    rootDir: string;
}

const addresses = (process.env.E2E_ADDRESSES ?? "127.0.0.2,127.0.0.3,127.0.0.4").split(",");
/** The first two are the mesh of every scenario; the single-stack scenario adds the third to a running mesh. */
const domains: Domain[] = [
    { name: "cluster-1", trustDomain: "foo.com", network: "foo-network" },
    { name: "cluster-2", trustDomain: "bar.com", network: "bar-network" },
    { name: "cluster-3", trustDomain: "baz.com", network: "baz-network" },
].map((domain, index) => ({
    ...domain,
    address: addresses[index],
    kubeconfig: path.join(cache, "clusters", domain.name, "kubeconfig"),
    rootDir: path.join(work, "roots", domain.name),
}));

/** Providers the SDKs request that the toolchain cannot build (e2e/README.md); the program must not need them here. */
const unbuildable = ["pulumi-language-nodejs", "pulumi-resource-command", "pulumi-resource-tls"];

// ---------------------------------------------------------------------------------------------
// Phases

type Status = "passed" | "failed" | "skipped";
interface Phase {
    name: string;
    status: Status;
    seconds: number;
    evidence: string[];
    error?: string;
}
const phases: Phase[] = [];
const abort = new AbortController();

/**
 * Runs one phase: timed, recorded, a progress line on stderr. A phase whose prerequisite failed
 * (`needs` false) or that comes after an interrupt is recorded as skipped, so the report always
 * names every phase.
 */
async function phase(name: string, needs: boolean, body: (evidence: string[]) => Promise<void>): Promise<boolean> {
    const evidence: string[] = [];
    if (!needs || (abort.signal.aborted && name !== "teardown")) {
        phases.push({ name, status: "skipped", seconds: 0, evidence: [abort.signal.aborted ? "interrupted" : "an earlier phase failed"] });
        progress(name, "skipped");
        return false;
    }
    progress(name, "started");
    const t0 = Date.now();
    try {
        await body(evidence);
        const seconds = (Date.now() - t0) / 1000;
        phases.push({ name, status: "passed", seconds, evidence });
        progress(name, `passed in ${seconds.toFixed(1)}s`);
        return true;
    } catch (error) {
        const seconds = (Date.now() - t0) / 1000;
        const message = engineMessage(error);
        phases.push({ name, status: "failed", seconds, evidence, error: message });
        progress(name, `FAILED in ${seconds.toFixed(1)}s: ${message.split("\n")[0]}`);
        return false;
    }
}

function progress(name: string, what: string): void {
    process.stderr.write(`[e2e:local ${new Date().toISOString().slice(11, 19)}] ${name}: ${what}\n`);
}

/** The engine's own error lines with their indented details when there are any (the CLI's output is long), else the message. */
function engineMessage(error: unknown): string {
    const text = error instanceof Error ? error.message : String(error);
    const found: string[] = [];
    let indent = -1;
    // An error line ending in ":" (Helm's schema errors) goes on at its own depth until a blank line.
    let continued = false;
    for (const line of text.split("\n")) {
        const depth = line.length - line.trimStart().length;
        if (/^\s*error:/i.test(line) && !line.includes("pulumi:pulumi:Stack")) {
            found.push(line.trim());
            indent = depth;
            continued = line.trimEnd().endsWith(":");
        } else if (indent >= 0 && line.trim() !== "" && (depth > indent || (continued && depth === indent))) {
            found.push(`  ${line.trim()}`);
        } else {
            indent = -1;
            continued = false;
        }
    }
    const unique = [...new Set(found)];
    return (unique.length > 0 ? unique.join("\n") : text.trim()).slice(0, 4000);
}

function check(condition: boolean, message: string): asserts condition {
    if (!condition) throw new Error(message);
}

// ---------------------------------------------------------------------------------------------
// Processes and tools

const children: ChildProcess[] = [];
const clustersUp: Domain[] = [];

async function kubectl(domain: Domain | string, ...args: string[]): Promise<string> {
    const kubeconfig = typeof domain === "string" ? domain : domain.kubeconfig;
    const { stdout } = await run(bin("kube", "kubectl"), ["--kubeconfig", kubeconfig, ...args], { maxBuffer: 256 << 20 });
    return stdout;
}

async function kubectlJson<T>(domain: Domain, ...args: string[]): Promise<T> {
    return JSON.parse(await kubectl(domain, ...args, "-o", "json")) as T;
}

interface List<T> {
    items: T[];
}
interface Meta {
    metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

/** Runs a command with its output in logs/<log>.log; the error names the log on failure. */
async function logged(log: string, command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<void> {
    const file = path.join(logs, `${log}.log`);
    const out = fs.openSync(file, "a");
    try {
        const child = spawn(command, args, { cwd: root, env: env ?? process.env, stdio: ["ignore", out, out] });
        children.push(child);
        const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
        if (code !== 0) {
            const tail = fs.readFileSync(file, "utf8").trim().split("\n").slice(-15).join("\n");
            throw new Error(`${path.basename(command)} ${args.join(" ")} exited ${code} (log: ${file}):\n${tail}`);
        }
    } finally {
        fs.closeSync(out);
    }
}

/** `node --import tsx e2e/charts/serve.ts`; resolves with the repository URLs it prints. */
async function startMirror(outDir: string): Promise<Record<string, string>> {
    const server = spawn(process.execPath, ["--import", "tsx", path.join(root, "e2e/charts/serve.ts"), outDir, "127.0.0.1", "0"], {
        cwd: root,
        stdio: ["ignore", "pipe", fs.openSync(path.join(logs, "chart-mirror.log"), "a")],
    });
    children.push(server);
    const stdout = server.stdout;
    if (stdout === null) throw new Error("chart mirror: no stdout pipe");
    return new Promise((resolve, reject) => {
        let buffered = "";
        stdout.on("data", (chunk: Buffer) => {
            buffered += chunk.toString();
            const line = buffered.split("\n")[0];
            if (buffered.includes("\n")) resolve(JSON.parse(line) as Record<string, string>);
        });
        server.on("exit", (code) => reject(new Error(`chart mirror exited ${code} before listening (log: ${logs}/chart-mirror.log)`)));
    });
}

async function stopChildren(evidence: string[]): Promise<void> {
    for (const child of children) {
        if (child.exitCode !== null || child.signalCode !== null) continue;
        child.kill("SIGTERM");
        const stopped = await Promise.race([
            new Promise<boolean>((resolve) => child.on("exit", () => resolve(true))),
            new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000)),
        ]);
        if (!stopped) child.kill("SIGKILL");
        evidence.push(`stopped pid ${child.pid} (${child.spawnargs.map((arg) => path.basename(arg)).join(" ").slice(0, 60)})${stopped ? "" : " with SIGKILL"}`);
    }
}

// ---------------------------------------------------------------------------------------------
// The scenario

/** Namespaces and cluster-scoped objects before the stack exists: what destroy must return to. */
const clusterScoped = ["namespaces", "customresourcedefinitions", "clusterroles", "clusterrolebindings", "mutatingwebhookconfigurations", "validatingwebhookconfigurations"];
const baseline = new Map<string, Set<string>>();

async function snapshot(domain: Domain): Promise<Map<string, Set<string>>> {
    const names = new Map<string, Set<string>>();
    for (const kind of clusterScoped) {
        const list = await kubectlJson<List<Meta>>(domain, "get", kind);
        names.set(kind, new Set(list.items.map((item) => item.metadata.name)));
    }
    return names;
}

/** A Helm release as its storage Secret holds it: base64 (the API's) of base64 (Helm's) of gzip of JSON. */
interface HelmRelease {
    name: string;
    namespace: string;
    version: number;
    info: { status: string };
    chart: { metadata: { name: string; version: string } };
}
function decodeRelease(secret: { data: { release: string } }): HelmRelease {
    const helmBase64 = Buffer.from(secret.data.release, "base64").toString();
    return JSON.parse(gunzipSync(Buffer.from(helmBase64, "base64")).toString()) as HelmRelease;
}

/** Chart name -> the version versions.ts pins; `chartVersions` of the program's own helm.ts are not read, on purpose. */
const pinnedCharts: Record<string, string> = {
    base: defaultVersions.istio,
    istiod: defaultVersions.istio,
    gateway: defaultVersions.istio,
    spire: defaultVersions.spireChart,
    "spire-crds": defaultVersions.spireCrdsChart,
    "cert-manager": defaultVersions.certManager,
};

function countOps(changes: OpMap | undefined): string {
    return Object.entries(changes ?? {})
        .map(([op, count]) => `${op}=${count}`)
        .join(" ");
}

/** What every scenario has once its shared phases passed: the chart mirror's URLs and the provider stand-in. */
interface Setup {
    ready: boolean;
    repositories: Record<string, string>;
    standIn: { version: string; sdkVersion: string };
}

/** The phases every scenario starts with: toolchain present, chart mirror, a cluster and a root per domain of `clusterDomains`. */
async function setup(clusterDomains: Domain[]): Promise<Setup> {
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(logs, { recursive: true });
    const standIn = { version: "", sdkVersion: "" };

    const pre = await phase("preflight", true, async (evidence) => {
        const needed = [
            ["pulumi", "pulumi"],
            ["provider-kubernetes", "pulumi-resource-kubernetes"],
            ["kube", "kube-apiserver"],
            ["kube", "kube-controller-manager"],
            ["kube", "kube-scheduler"],
            ["kube", "kubectl"],
            ["etcd", "etcd"],
            ["kwok", "kwok"],
            ["cert-manager", "cert-manager-controller"],
        ];
        const missing = () => needed.filter(([family, name]) => !fs.existsSync(bin(family, name)));
        if (missing().length > 0) {
            // One command from a clean clone: the first run builds what it lacks (cached afterwards).
            const families = [...new Set(missing().map(([family]) => family))];
            progress("preflight", `building the toolchain (${families.join(" ")}); a first build takes long (e2e/README.md), log: ${path.join(logs, "toolchain.log")}`);
            const t0 = Date.now();
            // A line on stderr per binary built, so that an hour of building is not an hour of silence.
            let shown = 0;
            const echoBuilt = () => {
                const lines = fs.existsSync(path.join(logs, "toolchain.log")) ? fs.readFileSync(path.join(logs, "toolchain.log"), "utf8").split("\n") : [];
                for (const line of lines.slice(shown, -1)) if (/^(built|FAIL) /.test(line)) progress("preflight", line);
                shown = Math.max(shown, lines.length - 1);
            };
            const echoing = setInterval(echoBuilt, 5000);
            // The script exits 1 whenever something unbuildable is listed (the Node.js host, command, tls); what counts is what got built.
            await logged("toolchain", "bash", [path.join(root, "e2e/build-toolchain.sh"), ...families])
                .catch(() => undefined)
                .finally(() => {
                    clearInterval(echoing);
                    echoBuilt();
                });
            const built = families.filter((family) => !missing().some(([f]) => f === family));
            evidence.push(`built ${built.join(" ") || "nothing"} in ${((Date.now() - t0) / 1000).toFixed(0)}s (e2e/build-toolchain.sh)`);
        }
        const absent = missing().map(([family, name]) => bin(family, name));
        check(absent.length === 0, `toolchain incomplete (log: ${path.join(logs, "toolchain.log")})\nmissing:\n  ${absent.join("\n  ")}`);
        check(fs.existsSync(path.join(root, "node_modules/@pulumi/pulumi/package.json")), "Node dependencies missing, run: npm ci");
        await run("openssl", ["version"]);
        const flags = fs.readFileSync(`${bin("provider-kubernetes", "pulumi-resource-kubernetes")}.flags`, "utf8");
        standIn.version = /version\.Version=(\S+)/.exec(flags)?.[1] ?? "unknown";
        standIn.sdkVersion = (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies["@pulumi/kubernetes"];
        evidence.unshift(`toolchain: ${needed.length} binaries present`);
        evidence.push(`kubernetes provider ${standIn.version} installed as ${standIn.sdkVersion} (a stand-in: the SDK requests ${standIn.sdkVersion}, only ${standIn.version} builds here)`);
        evidence.push(`not buildable here, so not installed: ${unbuildable.join(", ")}; a resource needing one fails the phase that declares it`);
    });

    let repositories: Record<string, string> = {};
    const charts = await phase("chart-mirror", pre, async (evidence) => {
        // E2E_CHART_MIRROR: repositories made elsewhere (`istio/`, `spiffe/`, `jetstack/`, each an
        // index.yaml and the published archives, as the GitHub workflow pulls them); otherwise the
        // chart sources are packaged here, by default the shared ones beside the clone.
        const prebuilt = process.env.E2E_CHART_MIRROR;
        const outDir = prebuilt ?? path.join(cache, "charts");
        if (prebuilt === undefined) {
            const sources = process.env.E2E_CHART_SOURCES ?? path.join(root, "../shared/upstream/charts");
            await logged("chart-package", process.execPath, ["--import", "tsx", path.join(root, "e2e/charts/package.ts"), sources, outDir]);
            evidence.push(`packaged the chart sources in ${sources}`);
        } else {
            evidence.push(`repositories from E2E_CHART_MIRROR=${prebuilt}, not packaged here`);
        }
        repositories = await startMirror(outDir);
        evidence.unshift(`serving ${JSON.stringify(repositories)}`);
    });

    const clusters = await phase("clusters", charts, async (evidence) => {
        for (const domain of clusterDomains) {
            clustersUp.push(domain);
            await logged(`cluster-${domain.name}`, path.join(root, "e2e/cluster.sh"), ["up", domain.name, domain.address]);
            const nodes = await kubectl(domain, "get", "nodes", "-o", "name");
            evidence.push(`${domain.name}: https://${domain.address}:6443 up, ${nodes.trim()}`);
            for (const [kind, names] of await snapshot(domain)) baseline.set(`${domain.name}/${kind}`, names);
        }
    });

    const roots = await phase("root-cas", clusters, async (evidence) => {
        for (const domain of clusterDomains) {
            fs.mkdirSync(domain.rootDir, { recursive: true });
            await run("openssl", [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "3650",
                "-keyout", path.join(domain.rootDir, "root.key"), "-out", path.join(domain.rootDir, "root.crt"),
                "-subj", `/O=multi-mesh/CN=${domain.trustDomain} e2e root CA`,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ]);
            const certificate = new X509Certificate(fs.readFileSync(path.join(domain.rootDir, "root.crt")));
            check(certificate.ca, `${domain.name}: openssl did not make a CA certificate`);
            evidence.push(`${domain.trustDomain}: ${certificate.subject.replace(/\n/g, ", ")}, sha256 ${certificate.fingerprint256}`);
        }
    });
    return { ready: roots, repositories, standIn };
}

/** One file backend and one passphrase for every stack of a run: what lets a stack decrypt its peer's secret output. */
const pulumiEnv = {
    PULUMI_HOME: path.join(work, "home"),
    PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: "e2e-local",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
};

interface Workspace {
    project: string;
    pulumiCommand: PulumiCommand;
}

/** The project folder (a copy of Pulumi.yaml; stack settings files go beside it, not into the repository), the CLI and the provider stand-in. */
async function prepareWorkspace(standIn: Setup["standIn"]): Promise<Workspace> {
    const project = path.join(work, "project");
    const cli = path.join(work, "cli", "bin");
    fs.mkdirSync(project, { recursive: true });
    fs.mkdirSync(cli, { recursive: true });
    fs.mkdirSync(path.join(work, "state"), { recursive: true });
    fs.copyFileSync(path.join(programRoot, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
    // Providers run in the project folder, and the program names project files relative to it
    // (the Helm post-renderer in scripts/): the copy sees them as a checkout does.
    fs.symlinkSync(path.join(root, "scripts"), path.join(project, "scripts"));
    fs.symlinkSync(bin("pulumi", "pulumi"), path.join(cli, "pulumi"));
    await logged("plugin-install", path.join(cli, "pulumi"), ["plugin", "install", "resource", "kubernetes", standIn.sdkVersion, "--file", bin("provider-kubernetes", "pulumi-resource-kubernetes")], { ...process.env, ...pulumiEnv });
    return { project, pulumiCommand: await PulumiCommand.get({ root: path.dirname(cli) }) };
}

async function openStack(stackName: string, workspace: Workspace): Promise<Stack> {
    return LocalWorkspace.createOrSelectStack(
        {
            stackName,
            projectName: "spire-istio-mesh",
            // The program itself, unchanged (but for a `--break`): index.ts's export is the Pulumi program.
            program: async () => ((await import(path.join(programRoot, "index.ts"))) as { default: () => Promise<Record<string, unknown>> }).default(),
        },
        { workDir: workspace.project, pulumiCommand: workspace.pulumiCommand, envVars: pulumiEnv },
    );
}

/** Config of a stack deploying `stackDomains` on platform `existing` from the mirror, each with its supplied root. */
function domainConfig(stackDomains: Domain[], repositories: Record<string, string>): ConfigMap {
    const config: ConfigMap = {
        platform: { value: "existing" },
        exposure: { value: "NodePort" },
    };
    for (const [source, url] of Object.entries(repositories)) config[`chartRepositories.${source}`] = { value: url };
    stackDomains.forEach((domain, i) => {
        const keyName = `${domain.name.replace(/-/g, "")}RootKey`;
        Object.assign(config, {
            [`domains[${i}].name`]: { value: domain.name },
            [`domains[${i}].trustDomain`]: { value: domain.trustDomain },
            [`domains[${i}].network`]: { value: domain.network },
            [`domains[${i}].existing.context`]: { value: domain.name },
            [`domains[${i}].existing.kubeconfig`]: { value: domain.kubeconfig },
            [`domains[${i}].existing.nodeAddress`]: { value: domain.address },
            [`domains[${i}].rootCa.certificatePem`]: { value: fs.readFileSync(path.join(domain.rootDir, "root.crt"), "utf8") },
            [`domains[${i}].rootCa.privateKeyConfigKey`]: { value: keyName },
            [keyName]: { value: fs.readFileSync(path.join(domain.rootDir, "root.key"), "utf8"), secret: true },
        });
    });
    return config;
}

/** CLI output of each engine operation goes to its own log; engine events, when asked for, to `events`. */
function engineLog(name: string, events?: EngineEvent[]) {
    const file = path.join(logs, `pulumi-${name}.log`);
    return {
        onOutput: (out: string) => fs.appendFileSync(file, out),
        ...(events ? { onEvent: (event: EngineEvent) => events.push(event) } : {}),
        signal: abort.signal,
        color: "never" as const,
    };
}

type FederatedTrustDomains = List<Meta & { spec: { trustDomain: string; trustDomainBundle: string } }>;

/** `holder` has one ClusterFederatedTrustDomain for `peer`, its bundle byte-equal to what the peer exported and holding exactly the peer's root. */
async function checkFederatedWith(holder: Domain, peer: Domain, exported: string | undefined, evidence: string[]): Promise<void> {
    const trustDomains = await kubectlJson<FederatedTrustDomains>(holder, "get", "clusterfederatedtrustdomains.spire.spiffe.io");
    const found = trustDomains.items.filter((item) => item.spec.trustDomain === peer.trustDomain);
    check(found.length === 1, `${holder.name}: ${found.length} ClusterFederatedTrustDomains for ${peer.trustDomain}, want 1`);
    check(exported !== undefined, `${peer.name}: no exported trustBundle`);
    check(found[0].spec.trustDomainBundle === exported, `${holder.name}: bundle of ${peer.trustDomain} differs from ${peer.name}'s exported trustBundle`);
    // Independently of the program: the bundle holds exactly the root this run generated for the peer.
    const x5c = (JSON.parse(exported) as { keys: { x5c: string[] }[] }).keys.map((key) => key.x5c[0]);
    const peerRoot = new X509Certificate(fs.readFileSync(path.join(peer.rootDir, "root.crt"))).raw.toString("base64");
    check(x5c.length === 1 && x5c[0] === peerRoot, `${holder.name}: bundle of ${peer.trustDomain} does not hold exactly ${peer.name}'s root`);
    evidence.push(`${holder.name}: ${found[0].metadata.name} bundle byte-equal to ${peer.name}'s export (sha256 ${createHash("sha256").update(exported).digest("hex").slice(0, 12)}), holds its root`);
}

type SpiffeIds = List<Meta & { spec: { federatesWith?: string[] } }>;

async function checkSpiffeIdFederates(holder: Domain, peers: string[], evidence: string[]): Promise<void> {
    const ids = await kubectlJson<SpiffeIds>(holder, "get", "clusterspiffeids.spire.spiffe.io");
    check(ids.items.some((id) => peers.every((td) => id.spec.federatesWith?.includes(td))), `${holder.name}: no ClusterSPIFFEID federating with ${peers.join(", ")}`);
    evidence.push(`${holder.name}: ClusterSPIFFEID ${ids.items.map((id) => id.metadata.name).join(", ")} federates with ${peers.join(", ")}`);
}

async function cacerts(domain: Domain): Promise<X509Certificate> {
    const secret = await kubectlJson<{ data: Record<string, string> }>(domain, "-n", "istio-system", "get", "secret", "cacerts");
    const file = path.join(domain.rootDir, "cacerts.crt");
    fs.writeFileSync(file, Buffer.from(secret.data["tls.crt"], "base64"));
    const { stdout } = await run("openssl", ["verify", "-CAfile", path.join(domain.rootDir, "root.crt"), file]);
    check(stdout.includes(": OK"), `${domain.name}: cacerts does not chain to the root: ${stdout}`);
    return new X509Certificate(fs.readFileSync(file));
}

interface Workload extends Meta {
    kind: string;
    spec: { replicas?: number };
    status: { readyReplicas?: number; numberReady?: number; desiredNumberScheduled?: number };
}

async function checkWorkloadsReady(domain: Domain, evidence: string[]): Promise<void> {
    const list = await kubectlJson<List<Workload>>(domain, "get", "deployments,statefulsets,daemonsets", "--all-namespaces");
    const ready = (w: Workload) => (w.kind === "DaemonSet" ? w.status.numberReady === w.status.desiredNumberScheduled : (w.status.readyReplicas ?? 0) === (w.spec.replicas ?? 1));
    const notReady = list.items.filter((w) => !ready(w)).map((w) => `${w.kind} ${w.metadata.namespace}/${w.metadata.name}`);
    check(notReady.length === 0, `${domain.name}: not ready: ${notReady.join(", ")}`);
    const namespaces = [...new Set(list.items.map((w) => w.metadata.namespace))].sort();
    evidence.push(`${domain.name}: ${list.items.length} workloads ready in ${namespaces.join(", ")}`);
}

type RemoteSecrets = List<Meta & { data: Record<string, string> }>;

async function remoteSecrets(holder: Domain): Promise<RemoteSecrets> {
    return kubectlJson<RemoteSecrets>(holder, "-n", "istio-system", "get", "secrets", "-l", "istio/multiCluster=true");
}

/** `holder`'s remote secret for `peer` names the peer's API server and authenticates there with exactly the reads istiod needs. */
async function checkRemoteSecret(holder: Domain, peer: Domain, evidence: string[]): Promise<void> {
    const secrets = await remoteSecrets(holder);
    const secret = secrets.items.find((item) => item.data[peer.name] !== undefined);
    check(secret !== undefined, `${holder.name}: no remote secret with a kubeconfig for ${peer.name}`);
    const file = path.join(work, `remote-${holder.name}-${peer.name}.kubeconfig`);
    fs.writeFileSync(file, Buffer.from(secret.data[peer.name], "base64"), { mode: 0o600 });
    try {
        const server = (await kubectl(file, "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")).trim();
        check(server === `https://${peer.address}:6443`, `${holder.name}: remote secret for ${peer.name} names ${server}`);
        const answers: string[] = [];
        // Reads istiod needs from a remote cluster (istiod chart's reader ClusterRole), and writes it must not have.
        for (const verb of ["list pods", "list services", "list endpointslices.discovery.k8s.io", "list namespaces", "list nodes", "create pods", "delete namespaces"]) {
            const { stdout } = await run(bin("kube", "kubectl"), ["--kubeconfig", file, "auth", "can-i", ...verb.split(" "), "--all-namespaces"]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? "error" }));
            answers.push(`${verb}=${stdout.trim()}`);
            const want = verb.startsWith("list") ? "yes" : "no";
            check(stdout.trim() === want, `${holder.name}'s remote secret for ${peer.name}: can-i ${verb} is "${stdout.trim()}", want ${want}`);
        }
        const services = await kubectl(file, "get", "services", "--all-namespaces", "-o", "name");
        evidence.push(`${holder.name} -> ${peer.name} (${secret.metadata.name}): ${server} authenticates; ${answers.join(" ")}; lists ${services.trim().split("\n").length} services`);
    } finally {
        fs.rmSync(file, { force: true });
    }
}

/** Namespaces and cluster-scoped objects that were not there before the stacks; a CRD names its helm.sh/resource-policy. */
async function leftBehind(domain: Domain): Promise<string[]> {
    const left: string[] = [];
    for (const [kind, names] of await snapshot(domain)) {
        const before = baseline.get(`${domain.name}/${kind}`) ?? new Set();
        for (const name of names) {
            if (before.has(name)) continue;
            // Why a CRD outlived its release: Helm leaves objects annotated `helm.sh/resource-policy: keep`.
            const policy = kind === "customresourcedefinitions" ? (await kubectl(domain, "get", "crd", name, "-o", "jsonpath={.metadata.annotations.helm\\.sh/resource-policy}")).trim() : "";
            left.push(`${domain.name} ${kind}/${name}${policy ? ` (helm.sh/resource-policy: ${policy})` : ""}`);
        }
    }
    return left;
}

async function checkNothingRemains(evidence: string[]): Promise<void> {
    const left: string[] = [];
    for (const domain of clustersUp) left.push(...(await leftBehind(domain)));
    check(left.length === 0, `${left.length} objects left behind after destroy:\n  ${left.join("\n  ")}`);
    evidence.push(`${clusterScoped.join(", ")} equal to before the stack on ${clustersUp.map((domain) => domain.name).join(", ")}`);
}

/** Always the last phase: every cluster down (its logs kept on failure), every child process stopped. */
async function teardown(): Promise<void> {
    const failed = phases.some((p) => p.status === "failed") || abort.signal.aborted;
    await phase("teardown", true, async (evidence) => {
        if (failed) {
            // cluster.sh removes a cluster's logs on its next `up`: keep this run's.
            for (const domain of clustersUp) {
                const from = path.join(cache, "clusters", domain.name, "logs");
                if (fs.existsSync(from)) fs.cpSync(from, path.join(logs, "clusters", domain.name), { recursive: true });
            }
        }
        const problems: string[] = [];
        for (const domain of [...clustersUp].reverse()) {
            await logged(`cluster-${domain.name}`, path.join(root, "e2e/cluster.sh"), ["down", domain.name]).then(
                () => evidence.push(`${domain.name}: down, every port of ${domain.address} free`),
                (error: Error) => problems.push(error.message),
            );
        }
        await stopChildren(evidence);
        check(problems.length === 0, problems.join("\n"));
    });
}

// ---------------------------------------------------------------------------------------------
// Checks that read what the engine recorded and what the charts rendered

async function stateResources(stack: Stack): Promise<StateResource[]> {
    const exported = (await stack.exportStack()) as { deployment: { resources?: StateResource[] } };
    return exported.deployment.resources ?? [];
}

/**
 * Every custom resource the program declares waits, through its recorded dependencies, for the
 * release installing its CRD on its cluster (e2e/engineState.ts says why the graph, not `up`).
 */
async function checkCrdOrder(stack: Stack, evidence: string[]): Promise<void> {
    const { checked, problems } = crdOrderProblems(await stateResources(stack));
    check(checked > 0, "no custom resources of a known CRD in the state");
    check(problems.length === 0, `${problems.length} custom resources may be created before their CRD:\n  ${problems.join("\n  ")}`);
    evidence.push(`${checked} custom resources, each after the release installing its CRD on its cluster`);
}

/** The ConfigMaps the charts rendered carry each domain's own trust domain: a misspelt value leaves a chart default there. */
async function checkRenderedConfig(meshDomains: Domain[], evidence: string[]): Promise<void> {
    for (const domain of meshDomains) {
        const maps = await kubectlJson<List<Meta & { data?: Record<string, string> }>>(domain, "get", "configmaps", "--all-namespaces");
        const seen: string[] = [];
        for (const [file, pattern] of [
            ["server.conf", /"trust_domain":\s*"([^"]*)"/],
            ["agent.conf", /"trust_domain":\s*"([^"]*)"/],
            ["mesh", /^\s*trustDomain:\s*(\S+)/m],
        ] as const) {
            const holders = maps.items.filter((map) => map.data?.[file] !== undefined);
            check(holders.length > 0, `${domain.name}: no ConfigMap with ${file}`);
            for (const map of holders) {
                const value = pattern.exec(map.data![file])?.[1]?.replace(/^"|"$/g, "");
                check(value === domain.trustDomain, `${domain.name}: ${map.metadata.namespace}/${map.metadata.name} ${file} has trust domain ${String(value)}, want ${domain.trustDomain}`);
                seen.push(`${map.metadata.namespace}/${map.metadata.name}[${file}]`);
            }
        }
        evidence.push(`${domain.name}: trust domain ${domain.trustDomain} in ${seen.join(", ")}`);
    }
}

// ---------------------------------------------------------------------------------------------
// Breaking the program on purpose

/** The program the scenario runs: the repository's own files, or under `--break` a patched copy of them. */
let programRoot = root;

/** Copies the program's files (and Pulumi.yaml) beside the work folder and applies the break; the copy still resolves the repository's node_modules. */
function breakProgram(name: string, broken: Break): string {
    const copy = path.join(root, ".e2e-cache", "program");
    fs.rmSync(copy, { recursive: true, force: true });
    for (const entry of programEntries) fs.cpSync(path.join(root, entry), path.join(copy, entry), { recursive: true });
    const file = path.join(copy, broken.file);
    fs.writeFileSync(file, applyBreak(name, broken, fs.readFileSync(file, "utf8")));
    return copy;
}

/** The verdict of a `--break` run: the first failed phase is the one that should catch the break, for the right reason. */
function breakVerdict(name: string, broken: Break): void {
    const firstFailed = phases.find((p) => p.status === "failed");
    const caught = firstFailed?.name === broken.phase && broken.error.test(firstFailed.error ?? "");
    const afterwards = phases.filter((p) => p !== firstFailed && p.status === "failed").map((p) => p.name);
    phases.push({
        name: "break-caught",
        status: caught ? "passed" : "failed",
        seconds: 0,
        evidence: [
            `--break ${name}: ${broken.what}`,
            `first failed phase: ${firstFailed ? `${firstFailed.name}: ${(firstFailed.error ?? "").split("\n").slice(0, 3).join(" | ")}` : "none"}`,
            `wanted: ${broken.phase}, error matching ${String(broken.error)}`,
            `other failed phases: ${afterwards.join(", ") || "none"}`,
        ],
        ...(caught ? {} : { error: `--break ${name} was not caught at ${broken.phase}: ${firstFailed ? `${firstFailed.name} failed first` : "every phase passed"}` }),
    });
}

/** Issue 11's scenario: one stack holding two domains, then a third added to the running mesh. */
async function singleStack(breakName?: string): Promise<number> {
    const broken = breakName === undefined ? undefined : breaks[breakName];
    if (breakName !== undefined && broken === undefined) throw new Error(`--break ${breakName}: unknown; one of ${Object.keys(breaks).join(", ")}`);
    if (broken !== undefined) programRoot = breakProgram(breakName!, broken);
    // Most breaks need only the first mesh: they are caught before the third domain would come.
    const mesh = domains.slice(0, 2);
    const growing = broken === undefined || broken.needsThirdDomain === true;
    const shared = await setup(growing ? domains : mesh);
    let stack: Stack | undefined;
    let outputs: Record<string, { value: unknown }> = {};
    let upAttempted = false;

    const stackReady = await phase("stack", shared.ready, async (evidence) => {
        stack = await openStack("e2e-local", await prepareWorkspace(shared.standIn));
        const config = domainConfig(mesh, shared.repositories);
        await stack.setAllConfig(config, true);
        evidence.push(`file backend ${pulumiEnv.PULUMI_BACKEND_URL}, ${Object.keys(config).length} config keys set (samplesEnabled left at its default, true)`);
        if (broken !== undefined) evidence.push(`program: a copy in ${programRoot}, broken on purpose: ${broken.what}`);
    });

    const previewed = await phase("preview", stackReady, async (evidence) => {
        const result = await stack!.preview(engineLog("preview"));
        evidence.push(`plan: ${countOps(result.changeSummary)}`);
    });

    const up = await phase("up", stackReady && previewed, async (evidence) => {
        upAttempted = true;
        const events: EngineEvent[] = [];
        const result = await stack!.up(engineLog("up", events));
        outputs = result.outputs;
        evidence.push(`${result.summary.result}: ${countOps(result.summary.resourceChanges)}`);
        const retries = providerRetries(events);
        evidence.push(`provider retries while waiting: ${retries.length}${retries.length > 0 ? ` (first: ${retries[0].slice(0, 160)})` : ""}`);
        const resources = await stateResources(stack!);
        const chain = longestChain(resources);
        evidence.push(`longest dependency chain in the engine's state: ${chain.length} resources: ${chain.join(" -> ")}`);
        const walked = criticalPath(resources, events);
        evidence.push(`path the engine waited on (${walked.length} resources, seconds from the first step): ${walked.join(" -> ")}`);
    });

    const bundles = () => (outputs.domains?.value ?? {}) as Record<string, { trustBundle: string }>;
    const checkFederation = async (meshDomains: Domain[], evidence: string[]) => {
        for (const domain of meshDomains) {
            const peers = meshDomains.filter((other) => other !== domain);
            for (const peer of peers) await checkFederatedWith(domain, peer, bundles()[peer.name]?.trustBundle, evidence);
            await checkSpiffeIdFederates(domain, peers.map((peer) => peer.trustDomain), evidence);
        }
    };
    const checkRemoteSecrets = async (meshDomains: Domain[], evidence: string[]) => {
        for (const holder of meshDomains) {
            for (const peer of meshDomains.filter((other) => other !== holder)) await checkRemoteSecret(holder, peer, evidence);
        }
    };
    const checkCacerts = async (meshDomains: Domain[], evidence: string[]) => {
        for (const domain of meshDomains) {
            const certificate = await cacerts(domain);
            check(certificate.ca, `${domain.name}: cacerts is not a CA certificate`);
            evidence.push(`${domain.name}: cacerts issued ${certificate.validFrom}, CA, chains to ${domain.trustDomain}'s root (openssl verify OK)`);
        }
    };

    await phase("check-crd-order", up, async (evidence) => checkCrdOrder(stack!, evidence));
    await phase("check-rendered-config", up, async (evidence) => checkRenderedConfig(mesh, evidence));
    await phase("check-federation", up, async (evidence) => checkFederation(mesh, evidence));
    await phase("check-cacerts", up, async (evidence) => checkCacerts(mesh, evidence));

    await phase("check-helm-releases", up, async (evidence) => {
        for (const domain of mesh) {
            const secrets = await kubectlJson<List<Meta & { data: { release: string } }>>(domain, "get", "secrets", "--all-namespaces", "-l", "owner=helm,status=deployed");
            const releases = secrets.items.map(decodeRelease);
            const charts = new Set(releases.map((release) => release.chart.metadata.name));
            const absent = Object.keys(pinnedCharts).filter((chart) => !charts.has(chart));
            check(absent.length === 0, `${domain.name}: no deployed release of ${absent.join(", ")}`);
            for (const release of releases) {
                const want = pinnedCharts[release.chart.metadata.name];
                check(want === undefined || release.chart.metadata.version === want, `${domain.name}: ${release.namespace}/${release.name} runs ${release.chart.metadata.name} ${release.chart.metadata.version}, versions.ts pins ${want}`);
            }
            evidence.push(`${domain.name}: ${releases.map((r) => `${r.namespace}/${r.name}=${r.chart.metadata.name}@${r.chart.metadata.version}`).join(" ")}`);
        }
    });

    await phase("check-workloads", up, async (evidence) => {
        for (const domain of mesh) await checkWorkloadsReady(domain, evidence);
    });

    await phase("check-remote-secrets", up, async (evidence) => checkRemoteSecrets(mesh, evidence));

    // What follows changes a healthy mesh; a broken program has been judged by now, unless its break is in growing it.
    const healthy = up && growing;

    await phase("preview-no-changes", healthy, async (evidence) => {
        const result = await stack!.preview({ ...engineLog("preview-no-changes"), expectNoChanges: true });
        evidence.push(`no changes: ${countOps(result.changeSummary)}`);
    });

    await phase("cert-duration-change", healthy, async (evidence) => {
        const before = await cacerts(mesh[0]);
        await stack!.setConfig("istiodCertDuration", { value: "1000h" });
        const result = await stack!.up(engineLog("up-cert-duration"));
        const ops = result.summary.resourceChanges ?? {};
        const replaced = ["replace", "create-replacement", "delete-replaced", "create", "delete"].filter((op) => (ops[op as keyof OpMap] ?? 0) > 0);
        check(replaced.length === 0, `changing istiodCertDuration did ${countOps(ops)}`);
        evidence.push(`up: ${countOps(ops)}`);
        for (const domain of mesh) {
            // A changed duration no longer matches the last CertificateRequest, so cert-manager re-issues; that takes a moment.
            let duration = "";
            let after = await cacerts(domain);
            const lifetime = (certificate: X509Certificate) => (Date.parse(certificate.validTo) - Date.parse(certificate.validFrom)) / 3600_000;
            for (let i = 0; i < 90; i++) {
                const certificate = await kubectlJson<{ spec: { duration: string } }>(domain, "-n", "istio-system", "get", "certificate", "cacerts");
                duration = certificate.spec.duration;
                after = await cacerts(domain);
                if (/^1000h(0m0s)?$/.test(duration) && Math.abs(lifetime(after) - 1000) < 0.02) break;
                await new Promise((resolve) => setTimeout(resolve, 1000));
            }
            check(/^1000h(0m0s)?$/.test(duration), `${domain.name}: Certificate cacerts has duration ${duration}, want 1000h`);
            const hours = Math.round(lifetime(after) * 100) / 100;
            check(Math.abs(hours - 1000) < 0.02, `${domain.name}: cacerts was not re-issued for 1000h within 90s (lifetime ${hours}h)`);
            evidence.push(`${domain.name}: Certificate duration ${duration}, cacerts re-issued (lifetime ${hours}h${domain === mesh[0] ? `, was serial ${before.serialNumber}, now ${after.serialNumber}` : ""})`);
        }
    });

    const added = await phase("add-third-domain", healthy, async (evidence) => {
        const third = domains[2];
        const before = await stateResources(stack!);
        // What the first two clusters hold that a replacement would renew: cacerts' serial, the SPIRE server's and istiod's objects.
        const identity = async (domain: Domain) => {
            const serial = (await cacerts(domain)).serialNumber;
            const uids = await kubectl(domain, "get", "statefulsets,deployments", "--all-namespaces", "-o", "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}={.metadata.uid}{\"\\n\"}{end}");
            return `${serial}\n${uids.trim().split("\n").sort().join("\n")}`;
        };
        const identities = await Promise.all(mesh.map(identity));
        await stack!.setAllConfig(domainConfig(domains, shared.repositories), true);
        const events: EngineEvent[] = [];
        const result = await stack!.up(engineLog("up-third-domain", events));
        outputs = result.outputs;
        evidence.push(`up: ${countOps(result.summary.resourceChanges)}`);
        const byOp = stepsByOp(events);
        const destructive = ["replace", "create-replacement", "delete-replaced", "delete", "discard"].flatMap((op) => (byOp.get(op) ?? []).map((urn) => `${op} ${urn}`));
        check(destructive.length === 0, `adding ${third.trustDomain} replaced or deleted:\n  ${destructive.join("\n  ")}`);
        // Independently of the step events: every resource of the state before is still there, with the same ID.
        const after = new Map((await stateResources(stack!)).map((resource) => [resource.urn, resource]));
        const renewed = before.filter((resource) => resource.custom && after.get(resource.urn)?.id !== resource.id).map((resource) => resource.urn);
        check(renewed.length === 0, `resources gone or with a new ID after adding ${third.trustDomain}:\n  ${renewed.join("\n  ")}`);
        for (const [i, domain] of mesh.entries()) {
            check((await identity(domain)) === identities[i], `${domain.name}: cacerts was re-issued or a workload was re-created while adding ${third.trustDomain}`);
        }
        const updated = (byOp.get("update") ?? []).map((urn) => urn.split("::").pop());
        evidence.push(`${before.filter((resource) => resource.custom).length} resources of ${mesh.map((domain) => domain.trustDomain).join(" and ")} kept their IDs; cacerts serials and workload UIDs on ${mesh.map((domain) => domain.name).join(", ")} unchanged`);
        evidence.push(`created ${(byOp.get("create") ?? []).length}; updated in place: ${updated.join(", ") || "none"}`);
    });

    await phase("check-three-domains", added, async (evidence) => {
        await checkRenderedConfig([domains[2]], evidence);
        await checkFederation(domains, evidence);
        await checkCacerts([domains[2]], evidence);
        await checkRemoteSecrets(domains, evidence);
        for (const domain of domains) await checkWorkloadsReady(domain, evidence);
    });

    await phase("preview-no-changes-three", added, async (evidence) => {
        const result = await stack!.preview({ ...engineLog("preview-no-changes-three"), expectNoChanges: true });
        evidence.push(`no changes: ${countOps(result.changeSummary)}`);
    });

    const destroyed = await phase("destroy", upAttempted && stack !== undefined, async (evidence) => {
        const result = await stack!.destroy(engineLog("destroy"));
        evidence.push(`${result.summary.result}: ${countOps(result.summary.resourceChanges)}`);
    });

    await phase("check-nothing-remains", destroyed, checkNothingRemains);

    await teardown();
    if (broken !== undefined) {
        breakVerdict(breakName!, broken);
        const verdict = phases[phases.length - 1];
        return verdict.status === "passed" && phases.find((p) => p.name === "teardown")?.status === "passed" && !abort.signal.aborted ? 0 : 1;
    }
    return phases.some((p) => p.status === "failed") || abort.signal.aborted ? 1 : 0;
}

/** One team's stack in the cross-stack scenario: one domain, the other team's stack as its peer. */
interface Team {
    stackName: string;
    domain: Domain;
    peer: Domain;
    stack?: Stack;
    upAttempted: boolean;
}

/** How a stack reference names a stack on the file backend (`pulumi.getOrganization()` is "organization" there). */
const stackReference = (stackName: string): string => `organization/spire-istio-mesh/${stackName}`;

/** The program's own peer-stack warnings of one engine operation, exactly as the engine passed them on. */
function peerWarnings(events: EngineEvent[]): string[] {
    return events
        .map((event) => event.diagnosticEvent)
        .filter((diagnostic) => diagnostic?.severity === "warning" && diagnostic.message.includes("peer stack"))
        .map((diagnostic) => diagnostic!.message.trim());
}

/**
 * What the engine itself answers when a program reads `stackName`'s outputs with the invoke the
 * program's probe uses (lib/peerStacks.ts): a throwaway stack of the same project, previewed (the
 * invoke reads real outputs during preview too), logs the rejection and the top-level output names.
 * The program turns this answer into its warning and does not print it; this is the raw text.
 */
async function engineReadOf(stackName: string, workspace: Workspace): Promise<string> {
    const events: EngineEvent[] = [];
    const marker = "readStackOutputs:";
    const probe = await LocalWorkspace.createOrSelectStack(
        {
            stackName: "read-probe",
            projectName: "spire-istio-mesh",
            program: async () => {
                try {
                    const result = (await pulumi.runtime.invoke("pulumi:pulumi:readStackOutputs", { name: stackReference(stackName) })) as { outputs?: Record<string, unknown> };
                    pulumi.log.info(`${marker} resolved, outputs: [${Object.keys(result.outputs ?? {}).join(", ")}]`);
                } catch (error) {
                    const details = typeof error === "object" && error !== null && "details" in error ? ` details=${JSON.stringify((error as { details: unknown }).details)}` : "";
                    pulumi.log.info(`${marker} rejected: ${error instanceof Error ? `${error.constructor.name}: ${error.message}` : JSON.stringify(error)}${details}`);
                }
            },
        },
        { workDir: workspace.project, pulumiCommand: workspace.pulumiCommand, envVars: pulumiEnv },
    );
    try {
        // Pulumi.yaml's keys without a default must be set; this program reads none of them.
        await probe.setAllConfig({ platform: { value: "existing" }, "domains[0].name": { value: "read-probe" } }, true);
        await probe.preview({ ...engineLog(`read-probe-${stackName}`, events) });
    } finally {
        await probe.workspace.removeStack("read-probe", { force: true });
    }
    const said = events.map((event) => event.diagnosticEvent?.message.trim() ?? "").filter((message) => message.startsWith(marker));
    check(said.length === 1, `the read probe of ${stackName} logged ${said.length} answers`);
    return said[0].slice(marker.length).trim();
}

/**
 * Issue 12's scenario: one stack per trust domain on one file backend with one passphrase, each
 * naming the other in `peerStacks`, brought up in the documented order (A, B, A), checked as
 * federated on both API servers; then B destroyed and removed, and A left healthy apart from the link.
 */
async function crossStack(): Promise<number> {
    const shared = await setup(domains.slice(0, 2));
    const [a, b]: Team[] = [
        { stackName: "team-a", domain: domains[0], peer: domains[1], upAttempted: false },
        { stackName: "team-b", domain: domains[1], peer: domains[0], upAttempted: false },
    ];
    const other = (team: Team): Team => (team === a ? b : a);
    const warningsSeen: Record<string, string[]> = {};

    let workspace: Workspace | undefined;
    /** A team's stack is created just before its first `up`: until then its peer finds no such stack, as in the documented order. */
    const createStack = async (team: Team, evidence: string[]): Promise<void> => {
        team.stack = await openStack(team.stackName, workspace!);
        const config: ConfigMap = {
            ...domainConfig([team.domain], shared.repositories),
            exportAdminKubeconfigs: { value: "false" },
            "peerStacks[0].stack": { value: stackReference(other(team).stackName) },
            "peerStacks[0].trustDomains[0]": { value: team.peer.trustDomain },
        };
        await team.stack.setAllConfig(config, true);
        evidence.push(`${stackReference(team.stackName)}: ${team.domain.name}/${team.domain.trustDomain}, peerStacks [${stackReference(other(team).stackName)}: ${team.peer.trustDomain}], exportAdminKubeconfigs false`);
    };

    const stacksReady = await phase("stack-a", shared.ready, async (evidence) => {
        workspace = await prepareWorkspace(shared.standIn);
        await createStack(a, evidence);
        evidence.push(`file backend ${pulumiEnv.PULUMI_BACKEND_URL}, one passphrase for both stacks`);
    });

    /** `up` of one team's stack; its peer-stack warnings must be exactly `expected` in number, each naming `names` and saying `says`. */
    const up = (name: string, needs: boolean, team: Team, expected: number, names?: string, says?: string) =>
        phase(name, needs && stacksReady, async (evidence) => {
            team.upAttempted = true;
            const events: EngineEvent[] = [];
            const result = await team.stack!.up(engineLog(name, events));
            const warnings = peerWarnings(events);
            warningsSeen[name] = warnings;
            evidence.push(`${result.summary.result}: ${countOps(result.summary.resourceChanges)}`);
            for (const warning of warnings) evidence.push(`warning: ${warning}`);
            check(warnings.length === expected, `${warnings.length} peer-stack warnings, want ${expected}${warnings.length > 0 ? `:\n  ${warnings.join("\n  ")}` : ""}`);
            if (names) check(warnings.every((warning) => warning.includes(`"${names}"`)), `a warning does not name ${names}`);
            if (says) check(warnings.every((warning) => warning.includes(says)), `a warning does not say "${says}"`);
            const federation = result.outputs.federation?.value as { domains?: Record<string, { trustDomain: string }> } | undefined;
            const published = Object.values(federation?.domains ?? {}).map((domain) => domain.trustDomain);
            check(published.length === 1 && published[0] === team.domain.trustDomain, `${team.stackName} publishes ${published.join(", ") || "nothing"}, want ${team.domain.trustDomain}`);
            check(result.outputs.kubeconfigs === undefined, `${team.stackName} exports admin kubeconfigs despite exportAdminKubeconfigs false`);
            evidence.push(`${team.stackName} publishes ${published.join(", ")}; no kubeconfigs output`);
        });

    await phase("engine-read-b-absent", stacksReady, async (evidence) => {
        const answer = await engineReadOf(b.stackName, workspace!);
        evidence.push(`readStackOutputs of ${stackReference(b.stackName)} before it exists: ${answer}`);
        check(answer.includes(`unknown stack "${stackReference(b.stackName)}"`), `the engine's answer does not say unknown stack "${stackReference(b.stackName)}"`);
    });
    const upA1 = await up("up-a-alone", true, a, 1, stackReference(b.stackName), "does not exist on this backend");
    const stackB = await phase("stack-b", stacksReady, (evidence) => createStack(b, evidence));
    const upB = await up("up-b", stackB, b, 0);
    const upA2 = await up("up-a-again", true, a, 0);
    const linked = upA1 && upB && upA2;

    /** A peer's exported bundle of its one domain, read from its stack now (not from an earlier `up`). */
    const exportedBundle = async (team: Team): Promise<string | undefined> => {
        const outputs = await team.stack!.outputs();
        return (outputs.federation?.value as { domains?: Record<string, { trustBundle?: string }> } | undefined)?.domains?.[team.domain.name]?.trustBundle;
    };

    await phase("check-federation", linked, async (evidence) => {
        for (const team of [a, b]) {
            await checkFederatedWith(team.domain, team.peer, await exportedBundle(other(team)), evidence);
            await checkSpiffeIdFederates(team.domain, [team.peer.trustDomain], evidence);
        }
    });

    await phase("check-remote-secrets", linked, async (evidence) => {
        for (const team of [a, b]) await checkRemoteSecret(team.domain, team.peer, evidence);
    });

    await phase("check-workloads", linked, async (evidence) => {
        for (const team of [a, b]) await checkWorkloadsReady(team.domain, evidence);
    });

    for (const team of [a, b]) {
        await phase(`preview-no-changes-${team === a ? "a" : "b"}`, linked, async (evidence) => {
            const result = await team.stack!.preview({ ...engineLog(`preview-no-changes-${team.stackName}`), expectNoChanges: true });
            evidence.push(`no changes: ${countOps(result.changeSummary)}`);
        });
    }

    const destroyedB = await phase("destroy-b", b.upAttempted, async (evidence) => {
        const result = await b.stack!.destroy(engineLog("destroy-b"));
        evidence.push(`${result.summary.result}: ${countOps(result.summary.resourceChanges)}`);
    });

    await phase("engine-read-b-destroyed", destroyedB, async (evidence) => {
        const answer = await engineReadOf(b.stackName, workspace!);
        evidence.push(`readStackOutputs of ${stackReference(b.stackName)} once destroyed: ${answer}`);
        check(answer.startsWith("resolved"), `the engine's answer for a destroyed stack is not an empty read`);
    });
    // Destroyed, B's stack still exists, with no outputs.
    const upA3 = await up("up-a-without-b", destroyedB, a, 1, stackReference(b.stackName), `exports no "federation" output`);

    /** A with nothing left that points at bar.com, everything else of it still there and ready. */
    await phase("check-a-unlinked", upA3, async (evidence) => {
        const trustDomains = await kubectlJson<FederatedTrustDomains>(a.domain, "get", "clusterfederatedtrustdomains.spire.spiffe.io");
        const toPeer = trustDomains.items.filter((item) => item.spec.trustDomain === a.peer.trustDomain).map((item) => item.metadata.name);
        check(toPeer.length === 0, `${a.domain.name}: ClusterFederatedTrustDomains for ${a.peer.trustDomain} remain: ${toPeer.join(", ")}`);
        const secrets = await remoteSecrets(a.domain);
        const toPeerSecrets = secrets.items.filter((item) => item.data[a.peer.name] !== undefined).map((item) => item.metadata.name);
        check(toPeerSecrets.length === 0, `${a.domain.name}: remote secrets for ${a.peer.name} remain: ${toPeerSecrets.join(", ")}`);
        const ids = await kubectlJson<SpiffeIds>(a.domain, "get", "clusterspiffeids.spire.spiffe.io");
        check(ids.items.length > 0, `${a.domain.name}: no ClusterSPIFFEID left`);
        const federating = ids.items.filter((id) => id.spec.federatesWith?.includes(a.peer.trustDomain)).map((id) => id.metadata.name);
        check(federating.length === 0, `${a.domain.name}: ClusterSPIFFEIDs still federating with ${a.peer.trustDomain}: ${federating.join(", ")}`);
        evidence.push(`${a.domain.name}: no ClusterFederatedTrustDomain for ${a.peer.trustDomain} (${trustDomains.items.length} left), no remote secret for ${a.peer.name} (${secrets.items.length} left), ClusterSPIFFEID ${ids.items.map((id) => id.metadata.name).join(", ")} federates with nothing of ${a.peer.trustDomain}`);
        const certificate = await cacerts(a.domain);
        evidence.push(`${a.domain.name}: cacerts chains to ${a.domain.trustDomain}'s root (openssl verify OK), not after ${certificate.validTo}`);
        await checkWorkloadsReady(a.domain, evidence);
        const remaining = await leftBehind(b.domain);
        evidence.push(`${b.domain.name} after B's destroy: ${remaining.length} objects beyond its baseline${remaining.length > 0 ? ` (${remaining.join(", ")})` : ""}`);
    });

    // Destroyed is not gone: a removed stack is what `readStackOutputs` reports as unknown.
    const removedB = await phase("remove-b", destroyedB, async (evidence) => {
        await b.stack!.workspace.removeStack(b.stackName);
        evidence.push(`${stackReference(b.stackName)} removed from the backend`);
    });

    await phase("engine-read-b-removed", removedB, async (evidence) => {
        const answer = await engineReadOf(b.stackName, workspace!);
        evidence.push(`readStackOutputs of ${stackReference(b.stackName)} once removed: ${answer}`);
        check(answer.includes(`unknown stack "${stackReference(b.stackName)}"`), `the engine's answer does not say unknown stack "${stackReference(b.stackName)}"`);
    });
    await up("up-a-b-removed", removedB, a, 1, stackReference(b.stackName), "does not exist on this backend");

    const destroyedA = await phase("destroy-a", a.upAttempted, async (evidence) => {
        const result = await a.stack!.destroy(engineLog("destroy-a"));
        evidence.push(`${result.summary.result}: ${countOps(result.summary.resourceChanges)}`);
    });

    await phase("check-nothing-remains", destroyedA && destroyedB, checkNothingRemains);

    // Where a reader wants the engine's own words: every peer-stack warning per `up`.
    phases.push({ name: "warnings-seen", status: "passed", seconds: 0, evidence: Object.entries(warningsSeen).map(([name, warnings]) => `${name}: ${warnings.length === 0 ? "none" : warnings.join(" | ")}`) });

    await teardown();
    return phases.some((p) => p.status === "failed") || abort.signal.aborted ? 1 : 0;
}

const scenarios: Record<string, () => Promise<number>> = { "single-stack": () => singleStack(), "cross-stack": crossStack };

/** `--scenario NAME` picks the scenario (without it, the single-stack one); `--break NAME` breaks the single-stack one's program on purpose. */
async function main(): Promise<number> {
    const option = (flag: string): string | undefined => {
        const at = process.argv.indexOf(flag);
        return at >= 0 ? process.argv[at + 1] : undefined;
    };
    const breakName = option("--break");
    if (breakName === "all") return breakEach();
    if (breakName !== undefined) {
        if (option("--scenario") !== undefined) throw new Error("--break runs the single-stack scenario; leave out --scenario");
        progress("scenario", `single-stack, program broken on purpose: ${breakName}`);
        return singleStack(breakName);
    }
    const name = option("--scenario") ?? "single-stack";
    const scenario = scenarios[name];
    if (scenario === undefined) throw new Error(`--scenario ${String(name)}: unknown; one of ${Object.keys(scenarios).join(", ")}`);
    progress("scenario", name);
    return scenario();
}

/**
 * `--break all`: every break of `breaks`, one after the other, each in a process of its own (a
 * run's phases, clusters and program copy are its own); a phase per break in this run's report.
 */
async function breakEach(): Promise<number> {
    for (const name of Object.keys(breaks)) {
        if (abort.signal.aborted) break;
        progress("break", `${name}: ${breaks[name].what}`);
        const t0 = Date.now();
        const child = spawn(process.execPath, [...process.execArgv, __filename, "--break", name], { cwd: root, stdio: "inherit" });
        const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
        const verdict = JSON.parse(fs.readFileSync(path.join(cache, `report-break-${name}.json`), "utf8")) as { phases: Phase[] };
        const caught = verdict.phases.find((p) => p.name === "break-caught");
        // The next run recreates the work folder: keep a failed run's logs beside it.
        if (code !== 0 && fs.existsSync(logs)) fs.cpSync(logs, path.join(cache, `logs-break-${name}`), { recursive: true });
        phases.push({
            name: `break-${name}`,
            status: code === 0 ? "passed" : "failed",
            seconds: (Date.now() - t0) / 1000,
            evidence: caught?.evidence ?? [],
            ...(code === 0 ? {} : { error: caught?.error ?? `exited ${code}; see report-break-${name}.json` }),
        });
    }
    return phases.every((p) => p.status === "passed") && phases.length === Object.keys(breaks).length ? 0 : 1;
}

/** `report.json`, or `report-break-NAME.json` for a `--break` run, so that one run of each can be kept side by side. */
const reportName = process.argv.includes("--break") ? `report-break-${process.argv[process.argv.indexOf("--break") + 1]}.json` : "report.json";

function report(code: number): void {
    const file = path.join(cache, reportName);
    fs.writeFileSync(file, `${JSON.stringify({ passed: code === 0, finished: new Date().toISOString(), logs: code === 0 ? undefined : logs, phases }, null, 2)}\n`);
    const width = Math.max(...phases.map((p) => p.name.length));
    const rows = phases.map((p) => `${p.name.padEnd(width)}  ${p.status.padEnd(7)}  ${p.seconds.toFixed(1).padStart(7)}s  ${(p.error ?? p.evidence[0] ?? "").split("\n")[0].slice(0, 110)}`);
    process.stderr.write(`\n${"phase".padEnd(width)}  status   seconds   evidence / error\n${rows.join("\n")}\n\nreport: ${file}\n`);
    if (code === 0) fs.rmSync(logs, { recursive: true, force: true });
    else process.stderr.write(`logs kept: ${logs}\n`);
}

// The first Ctrl-C cancels the running engine operation and skips to teardown; the clusters'
// processes live in their own process groups, so teardown still has something to stop cleanly.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
        if (abort.signal.aborted) return;
        progress("interrupt", `${signal}: cancelling, then tearing down`);
        abort.abort();
    });
}

main().then(
    (code) => {
        report(code);
        process.exit(code);
    },
    (error: unknown) => {
        process.stderr.write(`e2e:local: ${error instanceof Error ? error.stack : String(error)}\n`);
        report(1);
        process.exit(1);
    },
);
