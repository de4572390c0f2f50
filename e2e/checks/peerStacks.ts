/**
 * What a cross-stack `up` must show: the program's peer-stack warnings (from the engine's
 * diagnostic events) exactly as many as the peer's state calls for, and the stack publishing its
 * own trust domain only, without admin kubeconfigs.
 */
import { OutputMap } from "@pulumi/pulumi/automation";
import { Domain } from "../clusters/domains";
import { check } from "../runner/phases";

/**
 * @param warnings the `up`'s peer-stack warnings (engine/events.ts `peerWarnings`)
 * @param expected how many there must be
 * @param names when given, every warning names this stack reference in quotes
 * @param says when given, every warning says this
 */
export function checkPeerWarnings(warnings: string[], expected: number, names?: string, says?: string): void {
    check(warnings.length === expected, `${warnings.length} peer-stack warnings, want ${expected}${warnings.length > 0 ? `:\n  ${warnings.join("\n  ")}` : ""}`);
    if (names) check(warnings.every((warning) => warning.includes(`"${names}"`)), `a warning does not name ${names}`);
    if (says) check(warnings.every((warning) => warning.includes(says)), `a warning does not say "${says}"`);
}

/**
 * The stack's `federation` output publishes exactly its own domain, and it has no `kubeconfigs` output.
 * @param stackName the stack
 * @param domain its one domain
 * @param outputs its outputs after `up`
 * @param evidence the phase's
 */
export function checkPublishesOwnDomainOnly(stackName: string, domain: Domain, outputs: OutputMap, evidence: string[]): void {
    const federation = outputs.federation?.value as { domains?: Record<string, { trustDomain: string }> } | undefined;
    const published = Object.values(federation?.domains ?? {}).map((exported) => exported.trustDomain);
    check(published.length === 1 && published[0] === domain.trustDomain, `${stackName} publishes ${published.join(", ") || "nothing"}, want ${domain.trustDomain}`);
    check(outputs.kubeconfigs === undefined, `${stackName} exports admin kubeconfigs despite exportAdminKubeconfigs false`);
    evidence.push(`${stackName} publishes ${published.join(", ")}; no kubeconfigs output`);
}
