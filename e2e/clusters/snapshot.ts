/**
 * The cluster-scoped objects (and namespaces) of each cluster before any stack: what destroy must
 * return the cluster to. Recorded when the cluster comes up, compared after destroy.
 */
import { kubectl, kubectlJson, List, Meta } from "../runner/kubectl";
import { Domain } from "./domains";

/** The kinds a stack adds outside its namespaces, and namespaces themselves. */
export const clusterScoped = ["namespaces", "customresourcedefinitions", "clusterroles", "clusterrolebindings", "mutatingwebhookconfigurations", "validatingwebhookconfigurations"];

/** `cluster/kind` -> names, as each cluster was right after it came up. */
const baseline = new Map<string, Set<string>>();

/**
 * The names of each kind of `clusterScoped` on the cluster now.
 * @param domain the cluster
 */
export async function snapshot(domain: Domain): Promise<Map<string, Set<string>>> {
    const names = new Map<string, Set<string>>();
    for (const kind of clusterScoped) {
        const list = await kubectlJson<List<Meta>>(domain, "get", kind);
        names.set(kind, new Set(list.items.map((item) => item.metadata.name)));
    }
    return names;
}

/**
 * Records the cluster as it is now as its baseline.
 * @param domain a cluster just up, before any stack touched it
 */
export async function recordBaseline(domain: Domain): Promise<void> {
    for (const [kind, names] of await snapshot(domain)) baseline.set(`${domain.name}/${kind}`, names);
}

/**
 * Namespaces and cluster-scoped objects that were not there before the stacks; a CRD names its
 * helm.sh/resource-policy, since Helm leaves objects annotated `keep` behind on purpose.
 * @param domain the cluster, after destroy
 */
export async function leftBehind(domain: Domain): Promise<string[]> {
    const left: string[] = [];
    for (const [kind, names] of await snapshot(domain)) {
        const before = baseline.get(`${domain.name}/${kind}`) ?? new Set();
        for (const name of names) {
            if (before.has(name)) continue;
            const policy = kind === "customresourcedefinitions" ? (await kubectl(domain, "get", "crd", name, "-o", "jsonpath={.metadata.annotations.helm\\.sh/resource-policy}")).trim() : "";
            left.push(`${domain.name} ${kind}/${name}${policy ? ` (helm.sh/resource-policy: ${policy})` : ""}`);
        }
    }
    return left;
}
