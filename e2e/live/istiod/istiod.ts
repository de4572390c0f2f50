/**
 * One istiod (`pilot-discovery discovery`) as a host process per cluster, against that
 * cluster's API server, started from what the program deployed: the istiod Deployment and its
 * (simulated) pod as the API server holds them, the pod's volumes written under the process's
 * working directory at their mount paths, and the ServiceAccount's own token. The mesh config
 * (ConfigMap `istio`) and the injector config (`istio-sidecar-injector`) are not mounted by the
 * Deployment: istiod reads them from the API server itself, here as in a cluster.
 *
 * istiod does not fail without a reachable API server or with RBAC denying it a read: it waits
 * (`waiting for sync... name=ConfigMap_istio`). So the API server is probed first, and readiness
 * is awaited with a deadline whose error quotes istiod's last log lines.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { discoveryContainer, HostCommand, hostCommand, PortOverrides } from "./hostCommand";
import { getOptional, Kube, kubectl, kubectlJson, List, serverOf, serviceAccountToken, tokenKubeconfigText } from "./kube";
import { containerOf, Deployment, Node, Pod } from "./podSpec";

/** One cluster as the live istiod phases see it: plain parameters, nothing of the program. */
export interface IstiodCluster {
    /** Name of the cluster in logs and folders (`cluster-1`). */
    name: string;
    /** The cluster's loopback address; every listener of its istiod binds it. */
    address: string;
    /** kubectl and the cluster's admin kubeconfig: the test bed's own view of the cluster. */
    kube: Kube;
}

export interface IstiodOptions {
    /** pilot-discovery built by the toolchain. */
    binary: string;
    /** Working directory of this istiod (recreated): the pod's volumes are written under it. */
    workDir: string;
    /** Folder of the process's log (`istiod-NAME.log`). */
    logDir: string;
    /** Namespace and name of the Deployment the program's istiod chart rendered. */
    namespace?: string;
    deployment?: string;
    /** Ports other than the container's, per listen flag, with why (one taken on the cluster's address). */
    ports?: PortOverrides;
    /** Arguments appended after the host changes (a scratch istiod's own `--clusterRegistriesNamespace`). */
    extraArgs?: string[];
    /** Deadline of the readiness probe; istiod waits silently on an API server it cannot read. */
    readyTimeoutSeconds?: number;
    /** Called with the process as soon as it is spawned (a driver's registry of what teardown must stop). */
    onSpawn?: (child: ChildProcess) => void;
    /** Tag in the log file name, for a second istiod of the same cluster. */
    tag?: string;
}

export interface RunningIstiod {
    cluster: IstiodCluster;
    command: HostCommand;
    /** What was written under the working directory, per mount path. */
    volumes: string[];
    /** The pod the host process stands in for. */
    pod: string;
    logFile: string;
    child: ChildProcess;
    /** Base URL of the debug endpoints (the HTTP port: localhost callers skip auth). */
    debugBase: string;
    /** Milliseconds from spawn to the readiness probe answering 200. */
    readyAfterMs: number;
}

/** The last `lines` lines of a file, for errors. */
export function tail(file: string, lines = 25): string {
    if (!fs.existsSync(file)) return "(no log)";
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

/** The running pod of a Deployment (by its selector); kwok gives it an IP and a node. */
async function podOf(kube: Kube, deployment: Deployment): Promise<Pod> {
    const selector = Object.entries(deployment.spec.selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`).join(",");
    const pods = await kubectlJson<List<Pod & { status?: { phase?: string } }>>(kube, ["-n", deployment.metadata.namespace, "get", "pods", "-l", selector]);
    const running = pods.items.filter((pod) => pod.status?.phase === "Running");
    if (running.length === 0) throw new Error(`no running pod of Deployment ${deployment.metadata.namespace}/${deployment.metadata.name} (selector ${selector}): ${pods.items.length} pods`);
    return running[0];
}

function writeFile(file: string, content: string | Buffer, mode = 0o644): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content, { mode });
}

/**
 * The container's volumes, written as the kubelet would mount them, under `workDir` at their mount
 * paths: Secrets' and ConfigMaps' keys as files, projected ServiceAccount tokens requested with
 * their audience and bound to the pod, emptyDirs as folders; an optional source that does not
 * exist is left out, as the kubelet does. Plus the ServiceAccount mount every pod gets.
 */
async function writeVolumes(kube: Kube, deployment: Deployment, pod: Pod, workDir: string): Promise<string[]> {
    const namespace = pod.metadata.namespace;
    const spec = deployment.spec.template.spec;
    const serviceAccount = pod.spec.serviceAccountName ?? "default";
    const boundTo = { name: pod.metadata.name, uid: pod.metadata.uid };
    const written: string[] = [];
    const data = async (kind: "secret" | "configmap", name: string): Promise<Record<string, Buffer> | undefined> => {
        const object = await getOptional<{ data?: Record<string, string> }>(kube, ["-n", namespace, kind, name]);
        if (object === undefined) return undefined;
        return Object.fromEntries(Object.entries(object.data ?? {}).map(([key, value]) => [key, kind === "secret" ? Buffer.from(value, "base64") : Buffer.from(value)]));
    };
    const writeKeys = (dir: string, keys: Record<string, Buffer>, mode: number) => {
        for (const [key, value] of Object.entries(keys)) writeFile(path.join(dir, key), value, mode);
    };
    for (const mount of containerOf(spec, discoveryContainer).volumeMounts ?? []) {
        const volume = spec.volumes?.find((v) => v.name === mount.name);
        if (volume === undefined) throw new Error(`volumeMount ${mount.name} names no volume of the pod spec`);
        if (mount.subPath) throw new Error(`volumeMount ${mount.name}: subPath is not written by the test bed`);
        const dir = path.join(workDir, mount.mountPath);
        if (volume.emptyDir) {
            fs.mkdirSync(dir, { recursive: true });
            written.push(`${mount.mountPath}: emptyDir`);
        } else if (volume.secret || volume.configMap) {
            const kind = volume.secret ? "secret" : "configmap";
            const name = volume.secret?.secretName ?? volume.configMap!.name;
            const keys = await data(kind, name);
            if (keys === undefined) {
                if (!(volume.secret?.optional ?? volume.configMap?.optional)) throw new Error(`volume ${mount.name}: ${kind} ${namespace}/${name} does not exist and is not optional`);
                written.push(`${mount.mountPath}: ${kind} ${name} (optional, absent: not mounted)`);
                continue;
            }
            writeKeys(dir, keys, kind === "secret" ? 0o600 : 0o644);
            written.push(`${mount.mountPath}: ${kind} ${name}, keys ${Object.keys(keys).sort().join(", ")}`);
        } else if (volume.projected) {
            const parts: string[] = [];
            for (const source of volume.projected.sources) {
                if (source.serviceAccountToken) {
                    const { audience, expirationSeconds, path: file } = source.serviceAccountToken;
                    const token = await serviceAccountToken(kube, namespace, serviceAccount, { audience, seconds: expirationSeconds, pod: boundTo });
                    writeFile(path.join(dir, file), token, 0o600);
                    parts.push(`${file}: token of ${serviceAccount}, audience ${audience ?? "(API server's)"}, bound to pod ${pod.metadata.name}`);
                } else if (source.configMap || source.secret) {
                    const kind = source.secret ? "secret" : "configmap";
                    const name = (source.secret ?? source.configMap)!.name;
                    const keys = await data(kind, name);
                    if (keys !== undefined) writeKeys(dir, keys, 0o644);
                    parts.push(`${kind} ${name}${keys === undefined ? " (absent)" : ""}`);
                } else {
                    throw new Error(`volume ${mount.name}: a projected source the test bed does not write: ${JSON.stringify(source)}`);
                }
            }
            written.push(`${mount.mountPath}: projected ${parts.join("; ")}`);
        } else {
            throw new Error(`volume ${mount.name}: a kind the test bed does not write: ${JSON.stringify(volume)}`);
        }
    }
    if (spec.automountServiceAccountToken !== false) {
        // What every pod gets at this path: its token, the cluster's CA (ConfigMap kube-root-ca.crt) and namespace.
        const dir = path.join(workDir, "var/run/secrets/kubernetes.io/serviceaccount");
        const caPem = await kubectl(kube, ["-n", namespace, "get", "configmap", "kube-root-ca.crt", "-o", "jsonpath={.data.ca\\.crt}"]);
        writeFile(path.join(dir, "ca.crt"), caPem);
        writeFile(path.join(dir, "namespace"), namespace);
        writeFile(path.join(dir, "token"), await serviceAccountToken(kube, namespace, serviceAccount, { pod: boundTo }), 0o600);
        written.push(`/var/run/secrets/kubernetes.io/serviceaccount: token of ${serviceAccount} bound to pod ${pod.metadata.name}, ca.crt from ConfigMap kube-root-ca.crt, namespace`);
    }
    return written;
}

/** Resolves once `url` answers 200; rejects when the process exits or the deadline passes, quoting the log. */
async function waitReady(url: string, child: ChildProcess, logFile: string, seconds: number): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    let last = "no answer yet";
    while (Date.now() < deadline) {
        if (child.exitCode !== null || child.signalCode !== null) {
            throw new Error(`pilot-discovery exited (${child.exitCode ?? child.signalCode}) before ${url} answered; last log lines (${logFile}):\n${tail(logFile)}`);
        }
        try {
            const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
            if (response.status === 200) return;
            last = `HTTP ${response.status}`;
        } catch (error) {
            last = (error as Error).message;
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    throw new Error(`istiod not ready within ${seconds}s (${url}: ${last}); istiod waits without an error when the API server is unreachable or RBAC denies a read. Last log lines (${logFile}):\n${tail(logFile)}`);
}

/**
 * Starts istiod for `cluster` from the Deployment the program's chart rendered there and waits
 * for its readiness probe. The API server is probed first (istiod would hang on it silently).
 */
export async function startIstiod(cluster: IstiodCluster, options: IstiodOptions): Promise<RunningIstiod> {
    const namespace = options.namespace ?? "istio-system";
    const name = options.deployment ?? "istiod";
    await kubectl(cluster.kube, ["get", "--raw", "/readyz"]).catch((error: Error) => {
        throw new Error(`${cluster.name}: API server not ready, istiod would wait on it without an error: ${error.message}`);
    });
    if (!fs.existsSync(options.binary)) throw new Error(`${options.binary} missing: build it with e2e/build-toolchain.sh`);
    const deployment = await kubectlJson<Deployment>(cluster.kube, ["-n", namespace, "get", "deployment", name]);
    const pod = await podOf(cluster.kube, deployment);
    const node = pod.spec.nodeName ? await kubectlJson<Node>(cluster.kube, ["get", "node", pod.spec.nodeName]) : undefined;

    fs.rmSync(options.workDir, { recursive: true, force: true });
    fs.mkdirSync(options.workDir, { recursive: true });
    fs.mkdirSync(options.logDir, { recursive: true });
    const volumes = await writeVolumes(cluster.kube, deployment, pod, options.workDir);

    // The pod's in-cluster config, as a kubeconfig: its ServiceAccount's token, the CA every pod trusts.
    const serviceAccount = pod.spec.serviceAccountName ?? "default";
    const kubeconfig = path.join(options.workDir, "host-kubeconfig");
    const token = fs.readFileSync(path.join(options.workDir, "var/run/secrets/kubernetes.io/serviceaccount/token"), "utf8");
    const caPem = fs.readFileSync(path.join(options.workDir, "var/run/secrets/kubernetes.io/serviceaccount/ca.crt"), "utf8");
    writeFile(kubeconfig, tokenKubeconfigText(`${cluster.name}-${serviceAccount}`, await serverOf(cluster.kube), caPem, token), 0o600);

    const command = hostCommand(deployment, pod, node, {
        address: cluster.address,
        kubeconfig,
        workDir: options.workDir,
        ports: options.ports,
        hostCores: os.availableParallelism(),
    });
    const args = [...command.args, ...(options.extraArgs ?? [])];
    const logFile = path.join(options.logDir, `istiod-${cluster.name}${options.tag ? `-${options.tag}` : ""}.log`);
    const out = fs.openSync(logFile, "w");
    const t0 = Date.now();
    // A process group of its own: stopping it stops everything it started.
    const child = spawn(options.binary, args, { cwd: options.workDir, env: command.env, stdio: ["ignore", out, out], detached: true });
    fs.closeSync(out);
    options.onSpawn?.(child);
    const running: RunningIstiod = {
        cluster,
        command: { ...command, args },
        volumes,
        pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
        logFile,
        child,
        debugBase: `http://${command.listen.httpAddr}`,
        readyAfterMs: 0,
    };
    try {
        await waitReady(command.readinessUrl, child, logFile, options.readyTimeoutSeconds ?? 180);
    } catch (error) {
        await stopIstiod(running);
        throw new Error(`${cluster.name}: ${(error as Error).message}`);
    }
    running.readyAfterMs = Date.now() - t0;
    return running;
}

/** SIGTERM to istiod's process group, SIGKILL 20 s later if it is still there (its own drain takes up to 10 s). */
export async function stopIstiod(running: RunningIstiod): Promise<string> {
    const child = running.child;
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return `${running.cluster.name}: istiod had exited (${child.exitCode ?? child.signalCode})`;
    const exited = new Promise<boolean>((resolve) => child.once("exit", () => resolve(true)));
    process.kill(-child.pid, "SIGTERM");
    const stopped = await Promise.race([exited, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20_000))]);
    if (!stopped) {
        try {
            process.kill(-child.pid, "SIGKILL");
        } catch {
            // gone between the check and the kill
        }
        await exited;
    }
    return `${running.cluster.name}: stopped istiod (pid ${child.pid})${stopped ? "" : " with SIGKILL"}`;
}

/** A debug endpoint of a running istiod as JSON (`/debug/clusterz`...). */
export async function debugJson<T>(running: RunningIstiod, endpoint: string): Promise<T> {
    const url = `${running.debugBase}${endpoint}`;
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`${running.cluster.name}: ${url} answered ${response.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
}
