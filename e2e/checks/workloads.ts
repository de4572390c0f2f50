/**
 * check-workloads: every Deployment, StatefulSet and DaemonSet (the charts' and the samples') is
 * ready; the pods are kwok's, so this shows the objects are complete enough to schedule and roll out.
 */
import { Domain } from "../clusters/domains";
import { kubectlJson, List, Meta } from "../runner/kubectl";
import { check } from "../runner/phases";

interface Workload extends Meta {
    kind: string;
    spec: { replicas?: number };
    status: { readyReplicas?: number; numberReady?: number; desiredNumberScheduled?: number };
}

/**
 * Every workload of the cluster ready.
 * @param domain the cluster
 * @param evidence the phase's: how many, in which namespaces
 */
export async function checkWorkloadsReady(domain: Domain, evidence: string[]): Promise<void> {
    const list = await kubectlJson<List<Workload>>(domain, "get", "deployments,statefulsets,daemonsets", "--all-namespaces");
    const ready = (w: Workload) => (w.kind === "DaemonSet" ? w.status.numberReady === w.status.desiredNumberScheduled : (w.status.readyReplicas ?? 0) === (w.spec.replicas ?? 1));
    const notReady = list.items.filter((w) => !ready(w)).map((w) => `${w.kind} ${w.metadata.namespace}/${w.metadata.name}`);
    check(notReady.length === 0, `${domain.name}: not ready: ${notReady.join(", ")}`);
    const namespaces = [...new Set(list.items.map((w) => w.metadata.namespace))].sort();
    evidence.push(`${domain.name}: ${list.items.length} workloads ready in ${namespaces.join(", ")}`);
}

/**
 * Every workload of every cluster ready.
 * @param domains the clusters, in order
 * @param evidence the phase's
 */
export async function checkWorkloads(domains: Domain[], evidence: string[]): Promise<void> {
    for (const domain of domains) await checkWorkloadsReady(domain, evidence);
}
