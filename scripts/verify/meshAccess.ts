/**
 * Everything `verify` needs from one cluster, kept small so the checks can run against a fake in
 * tests and against @kubernetes/client-node (kubeMeshAccess.ts) on a live mesh.
 */

export interface PodSummary {
    name: string;
    namespace: string;
    serviceAccount: string;
    phase: string;
    /** True while the pod is being deleted (it may still serve for a moment). */
    terminating: boolean;
    /** True when every container reports ready. */
    ready: boolean;
    labels: Record<string, string>;
}

export interface ExecResult {
    stdout: string;
    stderr: string;
    /** Exit code of the command; -1 when the API gave no code (for instance on a timeout). */
    exitCode: number;
}

export interface DeploymentState {
    /** Desired replicas (spec). */
    replicas: number;
    /** Pods that pass readiness (status). */
    readyReplicas: number;
}

export interface CustomObjectQuery {
    group: string;
    version: string;
    plural: string;
    /** Omitted for cluster-scoped kinds. */
    namespace?: string;
}

export interface MeshAccess {
    /** Domain (cluster) name this access reaches. */
    readonly clusterName: string;
    listPods(namespace: string, labelSelector: string): Promise<PodSummary[]>;
    /** Runs a command in a container (no TTY, no stdin) and collects its output. */
    execInPod(namespace: string, pod: string, container: string, command: string[], timeoutMs: number): Promise<ExecResult>;
    /** Undefined when the Deployment does not exist. */
    getDeployment(namespace: string, name: string): Promise<DeploymentState | undefined>;
    scaleDeployment(namespace: string, name: string, replicas: number): Promise<void>;
    /** The Secret's data, base64-decoded; undefined when it does not exist. */
    getSecret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
    listCustomObjects(query: CustomObjectQuery): Promise<Record<string, unknown>[]>;
}

/** Pods that serve: running, not being deleted. */
export function servingPods(pods: PodSummary[]): PodSummary[] {
    return pods.filter((pod) => pod.phase === "Running" && !pod.terminating);
}
