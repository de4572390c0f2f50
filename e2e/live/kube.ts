/**
 * The few API-server reads and writes the live layer makes, through the toolchain's kubectl.
 */
import * as fs from "node:fs";
import { runTool } from "./supervisor";

/** How to reach one cluster's API server. */
export interface KubeAccess {
    /** The toolchain's kubectl binary. */
    kubectl: string;
    /** The cluster's admin kubeconfig (e2e/cluster.sh writes it). */
    kubeconfig: string;
}

export function kubectl(kube: KubeAccess, ...args: string[]): Promise<string> {
    return runTool(kube.kubectl, ["--kubeconfig", kube.kubeconfig, ...args]);
}

export async function kubectlJson<T>(kube: KubeAccess, ...args: string[]): Promise<T> {
    return JSON.parse(await kubectl(kube, ...args, "-o", "json")) as T;
}

export interface Meta {
    metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
}
export interface List<T> {
    items: T[];
}
export interface Condition {
    type: string;
    status: string;
    reason?: string;
    message?: string;
}

/** A rendered file found in a ConfigMap: where it came from and its text. */
export interface RenderedFile {
    namespace: string;
    configMap: string;
    key: string;
    text: string;
}

/** The one ConfigMap (any namespace) holding `key`; an error names how many there were. */
export async function renderedFile(kube: KubeAccess, key: string): Promise<RenderedFile> {
    const maps = await kubectlJson<List<Meta & { data?: Record<string, string> }>>(kube, "get", "configmaps", "--all-namespaces");
    const holders = maps.items.filter((map) => map.data?.[key] !== undefined);
    if (holders.length !== 1) {
        throw new Error(`${holders.length} ConfigMaps hold ${key}, want 1${holders.length > 0 ? `: ${holders.map((m) => `${m.metadata.namespace}/${m.metadata.name}`).join(", ")}` : ""}`);
    }
    const [map] = holders;
    return { namespace: map.metadata.namespace ?? "", configMap: map.metadata.name, key, text: map.data![key] };
}

interface PodTemplateOwner extends Meta {
    kind: string;
    spec: { template: { spec: { serviceAccountName?: string; volumes?: { configMap?: { name: string } }[] } } };
}

/** A workload's (simulated) pod and the service account it runs as. */
export interface PodIdentity {
    /** `Kind namespace/name` of the workload that owns the pod. */
    workload: string;
    namespace: string;
    serviceAccount: string;
    pods: { name: string; node: string }[];
}

/**
 * The workload (Deployment, StatefulSet or DaemonSet) whose pod template mounts ConfigMap
 * `namespace/configMap`: the pod a host process reading that config stands in for, and its
 * service account. Pods are matched by owner (ReplicaSets by name prefix) and must exist.
 */
export async function podIdentityMounting(kube: KubeAccess, namespace: string, configMap: string): Promise<PodIdentity> {
    const owners = await kubectlJson<List<PodTemplateOwner>>(kube, "-n", namespace, "get", "deployments,statefulsets,daemonsets");
    const owner = owners.items.find((item) => item.spec.template.spec.volumes?.some((volume) => volume.configMap?.name === configMap));
    if (owner === undefined) throw new Error(`no workload in ${namespace} mounts ConfigMap ${configMap}`);
    const pods = await kubectlJson<List<Meta & { spec: { nodeName?: string } }>>(kube, "-n", namespace, "get", "pods");
    const owned = pods.items.filter((pod) =>
        pod.metadata.ownerReferences?.some((ref) => (ref.kind === owner.kind && ref.name === owner.metadata.name) || (owner.kind === "Deployment" && ref.kind === "ReplicaSet" && ref.name.startsWith(`${owner.metadata.name}-`))),
    );
    if (owned.length === 0) throw new Error(`${owner.kind} ${namespace}/${owner.metadata.name} has no pods`);
    return {
        workload: `${owner.kind} ${namespace}/${owner.metadata.name}`,
        namespace,
        serviceAccount: owner.spec.template.spec.serviceAccountName ?? "default",
        pods: owned.map((pod) => ({ name: pod.metadata.name, node: pod.spec.nodeName ?? "" })),
    };
}

/** A service-account token bound to one pod (as the kubelet projects it), with the audiences given (none: the API server's). */
export async function podToken(kube: KubeAccess, identity: PodIdentity, pod: string, audiences: string[] = []): Promise<string> {
    const args = ["create", "token", identity.serviceAccount, "-n", identity.namespace, "--bound-object-kind", "Pod", "--bound-object-name", pod, "--duration", "2h"];
    return (await kubectl(kube, ...args, ...audiences.flatMap((audience) => ["--audience", audience]))).trim();
}

/**
 * A kubeconfig for the API server authenticating as the pod's service account (a bound token):
 * what the in-cluster config gives the container, so the host process gets exactly the chart's
 * RBAC, not the test bed's admin rights.
 */
export async function podKubeconfig(kube: KubeAccess, identity: PodIdentity, pod: string, file: string): Promise<void> {
    const view = JSON.parse(await kubectl(kube, "config", "view", "--raw", "--minify", "--flatten", "-o", "json")) as {
        clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
    };
    const { server, "certificate-authority-data": ca } = view.clusters[0].cluster;
    const token = await podToken(kube, identity, pod);
    const user = `system:serviceaccount:${identity.namespace}:${identity.serviceAccount}`;
    fs.writeFileSync(
        file,
        JSON.stringify({
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name: "cluster", cluster: { server, "certificate-authority-data": ca } }],
            users: [{ name: user, user: { token } }],
            contexts: [{ name: "pod", context: { cluster: "cluster", user: user, namespace: identity.namespace } }],
            "current-context": "pod",
        }),
        { mode: 0o600 },
    );
}
