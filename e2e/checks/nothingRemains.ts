/**
 * check-nothing-remains: after destroy, every cluster's namespaces and cluster-scoped objects are
 * what they were before the first stack (clusters/snapshot.ts), CRDs included.
 */
import { clustersUp } from "../clusters/lifecycle";
import { clusterScoped, leftBehind } from "../clusters/snapshot";
import { check } from "../runner/phases";

/**
 * Nothing the stacks made outlives them, on any cluster this run brought up.
 * @param evidence the phase's
 */
export async function checkNothingRemains(evidence: string[]): Promise<void> {
    const left: string[] = [];
    for (const domain of clustersUp) left.push(...(await leftBehind(domain)));
    check(left.length === 0, `${left.length} objects left behind after destroy:\n  ${left.join("\n  ")}`);
    evidence.push(`${clusterScoped.join(", ")} equal to before the stack on ${clustersUp.map((domain) => domain.name).join(", ")}`);
}
