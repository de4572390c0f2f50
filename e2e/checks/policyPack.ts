/**
 * check-policy-pack: the policy pack through the real engine, as PR review runs it (`pulumi
 * preview --policy-pack policy-pack`). The CLI runs the pack through the Node.js language host
 * (pulumi v3.248.0 sdk/go/common/resource/plugin/analyzer_plugin.go: a runtime with a language
 * plugin gets the pack run by `RunPlugin`). On the deployed stack it must pass with the chart
 * mirror allowed in helm-charts-pinned's config, which is what a site with a mirror sets; with the
 * pack's default config (the public chart repositories only) the same preview must be refused,
 * with the policy's own message naming the mirror.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CommandError, EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { Repositories } from "../charts/mirror";
import { engineLog } from "../engine/events";
import { work } from "../runner/paths";
import { check } from "../runner/phases";

/**
 * The engine's summary of one resource's analysis (apitype.PolicyAnalyzeSummaryEvent) or of the
 * whole stack's (PolicyAnalyzeStackSummaryEvent, pulumi v3.248.0 sdk/go/common/apitype/events.go);
 * the SDK's event type declares neither.
 */
interface AnalyzeSummary {
    policyPackName: string;
    passed?: string[];
    failed?: string[];
}

/** An engine event with the two summaries it may carry. */
type SummarisedEvent = EngineEvent & { policyAnalyzeSummaryEvent?: AnalyzeSummary; policyAnalyzeStackSummaryEvent?: AnalyzeSummary };

/** What the pack decided over one preview, from the engine's events. */
export interface PackVerdict {
    /** Resources the pack analysed. */
    analysed: number;
    /** Resource policy name -> how many resources it passed. */
    passed: Map<string, number>;
    /** Stack policies that passed the whole stack. */
    stackPassed: string[];
    /** `policy: message` of every mandatory violation. */
    mandatory: string[];
    /** `policy: message` of every advisory violation. */
    advisory: string[];
}

/**
 * Reads the pack's verdict from a preview's engine events.
 * @param events the preview's engine events
 * @param packName the pack's name (policy-pack/pack.ts)
 */
export function packVerdict(events: EngineEvent[], packName: string): PackVerdict {
    const verdict: PackVerdict = { analysed: 0, passed: new Map(), stackPassed: [], mandatory: [], advisory: [] };
    for (const event of events as SummarisedEvent[]) {
        const summary = event.policyAnalyzeSummaryEvent;
        if (summary?.policyPackName === packName) {
            verdict.analysed += 1;
            for (const name of summary.passed ?? []) verdict.passed.set(name, (verdict.passed.get(name) ?? 0) + 1);
        }
        const stackSummary = event.policyAnalyzeStackSummaryEvent;
        if (stackSummary?.policyPackName === packName) verdict.stackPassed.push(...(stackSummary.passed ?? []));
        const violation = event.policyEvent;
        if (violation?.policyPackName === packName) {
            (violation.enforcementLevel === "mandatory" ? verdict.mandatory : verdict.advisory).push(`${violation.policyName}: ${violation.message.trim()}`);
        }
    }
    return verdict;
}

/**
 * Both previews, on a stack `up` deployed; the pack is `policy-pack/` of the stack's project
 * folder, as in a checkout.
 * @param stack the deployed stack
 * @param repositories the chart mirror the stack installs from
 * @param packName the pack's name
 * @param evidence the phase's
 */
export async function checkPolicyPack(stack: Stack, repositories: Repositories, packName: string, evidence: string[]): Promise<void> {
    const pack = path.join(stack.workspace.workDir, "policy-pack");
    const mirrorAllowed = path.join(work, "policy-config-mirror.json");
    fs.writeFileSync(mirrorAllowed, JSON.stringify({ "helm-charts-pinned": { allowedRepositories: Object.values(repositories) } }, null, 2));

    const events: EngineEvent[] = [];
    try {
        await stack.preview({ ...engineLog("preview-policy-pack", events), policyPacks: [pack], policyPackConfigs: [mirrorAllowed] });
    } catch (error) {
        // Name what refused it: the pack's mandatory violations, else the engine's own error.
        const refusedBy = packVerdict(events, packName).mandatory;
        if (refusedBy.length === 0) throw error;
        check(false, `the pack refused the deployed stack:\n  ${refusedBy.map((line) => line.split("\n").pop()).join("\n  ")}`);
    }
    const verdict = packVerdict(events, packName);
    check(verdict.analysed > 0, `the preview with --policy-pack ${pack} reported no analysis by ${packName}: the pack did not run`);
    check(verdict.mandatory.length === 0, `mandatory violations on the deployed stack:\n  ${verdict.mandatory.join("\n  ")}`);
    evidence.push(`--policy-pack with the mirror allowed: ${verdict.analysed} resources analysed, no mandatory violation; resource policies passed: ${[...verdict.passed].map(([name, count]) => `${name}×${count}`).join(", ")}; stack policies passed: ${verdict.stackPassed.join(", ") || "none reported"}`);
    if (verdict.advisory.length > 0) evidence.push(`advisory: ${verdict.advisory.map((line) => line.slice(0, 160)).join(" | ")}`);

    const refusedEvents: EngineEvent[] = [];
    let refusal: unknown;
    try {
        await stack.preview({ ...engineLog("preview-policy-pack-default", refusedEvents), policyPacks: [pack] });
    } catch (error) {
        refusal = error;
    }
    check(refusal instanceof CommandError, "the preview with the pack's default config (public chart repositories only) was not refused");
    const refused = packVerdict(refusedEvents, packName).mandatory.filter((line) => line.startsWith("helm-charts-pinned: "));
    const mirror = Object.values(repositories)[0];
    check(
        refused.some((line) => line.includes(`comes from "${mirror}"`)),
        `the refusal does not carry helm-charts-pinned's message about ${mirror}; mandatory violations:\n  ${packVerdict(refusedEvents, packName).mandatory.join("\n  ")}`,
    );
    const example = refused.find((line) => line.includes(`comes from "${mirror}"`)) ?? "";
    evidence.push(`--policy-pack with its default config: refused, ${refused.length} helm-charts-pinned violations, e.g. "${example.slice(example.indexOf("comes from") - 80).slice(0, 300)}"`);
}
