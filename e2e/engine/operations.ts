/**
 * The engine operations the scenarios run as phases, each with the evidence a reader of the
 * report wants from it: what changed, and for the first `up` what the engine waited on.
 */
import { EngineEvent, OutputMap, Stack } from "@pulumi/pulumi/automation";
import { criticalPath, longestChain, providerRetries } from "./engineState";
import { countOps, engineLog } from "./events";
import { stateResources } from "./workspace";

/**
 * `up`, with the provider's retries, the longest dependency chain of the state and the path the
 * engine waited on (docs/performance.md reads them).
 * @param stack the stack
 * @param log the log's name (`logs/pulumi-<log>.log`)
 * @param evidence the phase's
 * @returns the stack's outputs
 */
export async function upTimed(stack: Stack, log: string, evidence: string[]): Promise<OutputMap> {
    const events: EngineEvent[] = [];
    const result = await stack.up(engineLog(log, events));
    evidence.push(`${result.summary.result}: ${countOps(result.summary.resourceChanges)}`);
    const retries = providerRetries(events);
    evidence.push(`provider retries while waiting: ${retries.length}${retries.length > 0 ? ` (first: ${retries[0].slice(0, 160)})` : ""}`);
    const resources = await stateResources(stack);
    const chain = longestChain(resources);
    evidence.push(`longest dependency chain in the engine's state: ${chain.length} resources: ${chain.join(" -> ")}`);
    const walked = criticalPath(resources, events);
    evidence.push(`path the engine waited on (${walked.length} resources, seconds from the first step): ${walked.join(" -> ")}`);
    return result.outputs;
}

/**
 * `preview`, the plan's counts as evidence.
 * @param stack the stack
 * @param log the log's name
 * @param evidence the phase's
 */
export async function preview(stack: Stack, log: string, evidence: string[]): Promise<void> {
    const result = await stack.preview(engineLog(log));
    evidence.push(`plan: ${countOps(result.changeSummary)}`);
}

/**
 * `preview --expect-no-changes`: the engine fails it on any change.
 * @param stack the stack, just after an `up`
 * @param log the log's name
 * @param evidence the phase's
 */
export async function previewNoChanges(stack: Stack, log: string, evidence: string[]): Promise<void> {
    const result = await stack.preview({ ...engineLog(log), expectNoChanges: true });
    evidence.push(`no changes: ${countOps(result.changeSummary)}`);
}

/**
 * `destroy`, what it deleted as evidence.
 * @param stack the stack
 * @param log the log's name
 * @param evidence the phase's
 */
export async function destroy(stack: Stack, log: string, evidence: string[]): Promise<void> {
    const result = await stack.destroy(engineLog(log));
    evidence.push(`${result.summary.result}: ${countOps(result.summary.resourceChanges)}`);
}
