/**
 * check-nothing-remains: after destroy, every cluster's namespaces and cluster-scoped objects are
 * what they were before the first stack (clusters/snapshot.ts), but for the rule of destroy on a
 * cluster the program did not create (lib/helm.ts `crdsOutliveDestroy`): the test bed's stacks run
 * on platform `existing`, where the CRDs the charts installed stay, exactly those and marked
 * `helm.sh/resource-policy: keep`, unless the stack set `removeCrdsOnDestroy`; then nothing stays.
 */
import { Domain } from "../clusters/domains";
import { clustersUp } from "../clusters/lifecycle";
import { baselineOf, clusterScoped, snapshot } from "../clusters/snapshot";
import { kubectl } from "../runner/kubectl";
import { check } from "../runner/phases";

/** Per cluster (by name): the CRDs the stacks had installed when destroy began. */
const installedCrds = new Map<string, Set<string>>();

/**
 * Records the CRDs a stack installed on its clusters (those beyond the baseline): what destroy must
 * leave there when they stay. Called just before the destroy of the stack owning the clusters.
 * @param domains the clusters of the stack about to be destroyed
 */
export async function recordInstalledCrds(domains: Domain[]): Promise<void> {
    for (const domain of domains) {
        const crds = (await snapshot(domain)).get("customresourcedefinitions") ?? new Set<string>();
        const before = baselineOf(domain, "customresourcedefinitions");
        installedCrds.set(domain.name, new Set([...crds].filter((name) => !before.has(name))));
    }
}

/**
 * The check under the destroy rule of each cluster.
 * @param crdsStay whether the stack owning `domain` leaves its CRDs (platform existing without removeCrdsOnDestroy)
 * @returns the phase's body
 */
export function checkNothingRemains(crdsStay: (domain: Domain) => boolean): (evidence: string[]) => Promise<void> {
    return async (evidence) => {
        const problems: string[] = [];
        for (const domain of clustersUp) {
            const stays = crdsStay(domain);
            const expected = stays ? (installedCrds.get(domain.name) ?? new Set<string>()) : new Set<string>();
            if (stays && expected.size === 0) problems.push(`${domain.name}: no CRDs were recorded before destroy (recordInstalledCrds), so none can be expected to stay`);
            const keptCrds: string[] = [];
            for (const [kind, names] of await snapshot(domain)) {
                const before = baselineOf(domain, kind);
                for (const name of names) {
                    if (before.has(name)) continue;
                    if (kind === "customresourcedefinitions" && expected.has(name)) {
                        const policy = (await kubectl(domain, "get", "crd", name, "-o", "jsonpath={.metadata.annotations.helm\\.sh/resource-policy}")).trim();
                        if (policy === "keep") keptCrds.push(name);
                        else problems.push(`${domain.name} crd/${name} stayed without helm.sh/resource-policy: keep (${policy || "none"})`);
                        continue;
                    }
                    const policy = kind === "customresourcedefinitions" ? (await kubectl(domain, "get", "crd", name, "-o", "jsonpath={.metadata.annotations.helm\\.sh/resource-policy}")).trim() : "";
                    problems.push(`${domain.name} ${kind}/${name} left behind${policy ? ` (helm.sh/resource-policy: ${policy})` : ""}`);
                }
            }
            const missing = [...expected].filter((name) => !keptCrds.includes(name));
            if (missing.length > 0) problems.push(`${domain.name}: CRDs that had to stay are gone: ${missing.join(", ")}`);
            evidence.push(
                stays
                    ? `${domain.name} (CRDs stay): exactly the ${keptCrds.length} CRDs the stack installed remain, each marked keep (${[...new Set(keptCrds.map((name) => name.split(".").slice(1).join(".")))].sort().join(", ")}); nothing else beyond the baseline`
                    : `${domain.name} (removeCrdsOnDestroy): ${clusterScoped.join(", ")} equal to before the stack`,
            );
        }
        check(problems.length === 0, `${problems.length} differences from what destroy must leave:\n  ${problems.join("\n  ")}`);
    };
}
