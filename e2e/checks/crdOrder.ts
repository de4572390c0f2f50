/**
 * check-crd-order: every custom resource the program declares waits, through its recorded
 * dependencies, for the release installing its CRD on its cluster. Read from the engine's state,
 * not from `up`'s success: engine/engineState.ts says why the graph shows what `up` rarely does.
 */
import { Stack } from "@pulumi/pulumi/automation";
import { crdOrderProblems } from "../engine/engineState";
import { stateResources } from "../engine/workspace";
import { check } from "../runner/phases";

/**
 * @param stack the stack after its `up`
 * @param evidence the phase's
 */
export async function checkCrdOrder(stack: Stack, evidence: string[]): Promise<void> {
    const { checked, problems } = crdOrderProblems(await stateResources(stack));
    check(checked > 0, "no custom resources of a known CRD in the state");
    check(problems.length === 0, `${problems.length} custom resources may be created before their CRD:\n  ${problems.join("\n  ")}`);
    evidence.push(`${checked} custom resources, each after the release installing its CRD on its cluster`);
}
