import * as k8s from "@kubernetes/client-node";
import { Writable } from "node:stream";
import { CustomObjectQuery, DeploymentState, ExecResult, MeshAccess, PodSummary } from "./meshAccess";

/** A Writable that keeps what it is given. */
class Collector extends Writable {
    private readonly chunks: Buffer[] = [];
    override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
        this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
        done();
    }
    text(): string {
        return Buffer.concat(this.chunks).toString("utf8");
    }
}

function isNotFound(error: unknown): boolean {
    return error instanceof k8s.ApiException && error.code === 404;
}

/** The WebSocket layer rejects with ErrorEvents, not Errors; keep their message. */
function asError(error: unknown, what: string): Error {
    if (error instanceof Error) return error;
    const record = (error ?? {}) as { message?: unknown; error?: unknown };
    const inner = record.error instanceof Error ? record.error.message : undefined;
    const message = typeof record.message === "string" && record.message !== "" ? record.message : inner;
    return new Error(`${what} failed: ${message ?? String(error)}`);
}

/** Exit code from the status the API server sends at the end of an exec. */
export function exitCodeOf(status: k8s.V1Status | undefined): number {
    if (!status) return -1;
    if (status.status === "Success") return 0;
    const cause = status.details?.causes?.find((c) => c.reason === "ExitCode");
    const code = cause?.message !== undefined ? Number(cause.message) : NaN;
    return Number.isInteger(code) ? code : -1;
}

/** `MeshAccess` over @kubernetes/client-node: REST for reads and scaling, the exec WebSocket for commands. */
export class KubeMeshAccess implements MeshAccess {
    private readonly core: k8s.CoreV1Api;
    private readonly apps: k8s.AppsV1Api;
    private readonly custom: k8s.CustomObjectsApi;
    private readonly exec: k8s.Exec;

    constructor(
        readonly clusterName: string,
        config: k8s.KubeConfig,
    ) {
        this.core = config.makeApiClient(k8s.CoreV1Api);
        this.apps = config.makeApiClient(k8s.AppsV1Api);
        this.custom = config.makeApiClient(k8s.CustomObjectsApi);
        this.exec = new k8s.Exec(config);
    }

    /** From a kubeconfig text (the stack's `kubeconfigs` output). */
    static fromKubeconfig(clusterName: string, kubeconfig: string): KubeMeshAccess {
        const config = new k8s.KubeConfig();
        config.loadFromString(kubeconfig);
        return new KubeMeshAccess(clusterName, config);
    }

    /** From a context of a kubeconfig file ($KUBECONFIG or ~/.kube/config when no file is given). */
    static fromContext(clusterName: string, context: string, file?: string): KubeMeshAccess {
        const config = new k8s.KubeConfig();
        if (file) config.loadFromFile(file);
        else config.loadFromDefault();
        if (!config.getContexts().some((c) => c.name === context)) throw new Error(`kubeconfig has no context ${context}`);
        config.setCurrentContext(context);
        return new KubeMeshAccess(clusterName, config);
    }

    async listPods(namespace: string, labelSelector: string): Promise<PodSummary[]> {
        const list = await this.core.listNamespacedPod({ namespace, labelSelector });
        return list.items.map((pod) => ({
            name: pod.metadata?.name ?? "",
            namespace,
            serviceAccount: pod.spec?.serviceAccountName ?? "default",
            phase: pod.status?.phase ?? "Unknown",
            terminating: pod.metadata?.deletionTimestamp !== undefined,
            ready: (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
            labels: pod.metadata?.labels ?? {},
        }));
    }

    execInPod(namespace: string, pod: string, container: string, command: string[], timeoutMs: number): Promise<ExecResult> {
        const stdout = new Collector();
        const stderr = new Collector();
        return new Promise<ExecResult>((resolve, reject) => {
            let status: k8s.V1Status | undefined;
            let settled = false;
            const finish = (result: ExecResult | Error): void => {
                if (settled) return;
                settled = true;
                clearTimeout(timer);
                if (result instanceof Error) reject(result);
                else resolve(result);
            };
            const timer = setTimeout(() => {
                socket?.close();
                finish({ stdout: stdout.text(), stderr: `${stderr.text()}\n(timed out after ${timeoutMs} ms)`, exitCode: -1 });
            }, timeoutMs);
            let socket: { close(): void } | undefined;
            this.exec
                .exec(namespace, pod, container, command, stdout, stderr, null, false, (s) => {
                    status = s;
                })
                .then((ws) => {
                    socket = ws;
                    // The status frame arrives before the close; output is complete once the socket closes.
                    ws.on("close", () => finish({ stdout: stdout.text(), stderr: stderr.text(), exitCode: exitCodeOf(status) }));
                    ws.on("error", (error: unknown) => finish(asError(error, `exec in ${namespace}/${pod}/${container}`)));
                })
                .catch((error: unknown) => finish(asError(error, `exec in ${namespace}/${pod}/${container}`)));
        });
    }

    async getDeployment(namespace: string, name: string): Promise<DeploymentState | undefined> {
        try {
            const deployment = await this.apps.readNamespacedDeployment({ name, namespace });
            return { replicas: deployment.spec?.replicas ?? 1, readyReplicas: deployment.status?.readyReplicas ?? 0 };
        } catch (error) {
            if (isNotFound(error)) return undefined;
            throw error;
        }
    }

    async scaleDeployment(namespace: string, name: string, replicas: number): Promise<void> {
        const scale = await this.apps.readNamespacedDeploymentScale({ name, namespace });
        await this.apps.replaceNamespacedDeploymentScale({ name, namespace, body: { ...scale, spec: { replicas } } });
    }

    async getSecret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
        try {
            const secret = await this.core.readNamespacedSecret({ name, namespace });
            return Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, "base64").toString("utf8")]));
        } catch (error) {
            if (isNotFound(error)) return undefined;
            throw error;
        }
    }

    async listCustomObjects(query: CustomObjectQuery): Promise<Record<string, unknown>[]> {
        const { group, version, plural, namespace } = query;
        try {
            const list = (namespace
                ? await this.custom.listNamespacedCustomObject({ group, version, plural, namespace })
                : await this.custom.listClusterCustomObject({ group, version, plural })) as { items?: Record<string, unknown>[] };
            return list.items ?? [];
        } catch (error) {
            // A missing CRD is a finding for the check, not a crash of the run.
            if (isNotFound(error)) return [];
            throw error;
        }
    }
}
