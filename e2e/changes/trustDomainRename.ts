/**
 * rename-trust-domain-refused: a config that renames a deployed trust domain is refused by
 * `preview`, naming the key, the deployed name and the README's way on (lib/trustDomainRecord.ts:
 * SPIRE would not start on its datastore); with the config restored, nothing has changed.
 */
import { Stack } from "@pulumi/pulumi/automation";
import { Domain } from "../clusters/domains";
import { engineLog } from "../engine/events";
import { previewNoChanges } from "../engine/operations";
import { check } from "../runner/phases";

/**
 * Sets `domains[index].trustDomain` to another name, runs `preview`, restores the name.
 * @param stack the stack deploying `domain`
 * @param domain the domain renamed
 * @param index its position in the stack's `domains`
 * @param evidence the phase's
 */
export async function refuseTrustDomainRename(stack: Stack, domain: Domain, index: number, evidence: string[]): Promise<void> {
    const key = `domains[${index}].trustDomain`;
    const renamed = `renamed.${domain.trustDomain}`;
    let refusal: string | undefined;
    await stack.setConfig(key, { value: renamed }, true);
    try {
        await stack.preview(engineLog("preview-rename-trust-domain"));
    } catch (error) {
        refusal = (error as Error).message;
    } finally {
        await stack.setConfig(key, { value: domain.trustDomain }, true);
    }
    check(refusal !== undefined, `preview accepted ${key} = ${renamed} on a deployed ${domain.trustDomain}`);
    const line = refusal!.split("\n").find((text) => text.includes(`${key} of domain ${domain.name}`)) ?? "";
    check(line.includes(`is "${renamed}", but the domain was deployed as "${domain.trustDomain}"`), `preview failed, but not with the rename's refusal:\n${refusal!.slice(-2000)}`);
    check(line.includes('"Renaming a trust domain" in the README'), `the refusal does not say what to do: ${line}`);
    evidence.push(`preview refused: ${line.trim().slice(0, 240)}...`);
    await previewNoChanges(stack, "preview-no-changes-after-rename", evidence);
}
