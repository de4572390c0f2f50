/**
 * cert-duration-change: a change of `istiodCertDuration` on a running mesh updates the
 * Certificate in place; cert-manager then re-issues `cacerts` with the new lifetime. Nothing is
 * created, deleted or replaced.
 */
import { X509Certificate } from "node:crypto";
import { OpMap, Stack } from "@pulumi/pulumi/automation";
import { cacerts } from "../checks/cacerts";
import { Domain } from "../clusters/domains";
import { countOps, engineLog } from "../engine/events";
import { kubectlJson } from "../runner/kubectl";
import { check } from "../runner/phases";

/**
 * Sets `istiodCertDuration` to 1000h, runs `up`, and waits (up to 90 s per cluster) for the re-issue.
 * @param stack the stack deploying `mesh`
 * @param mesh its domains; the first one's serials before and after are in the evidence
 * @param evidence the phase's
 */
export async function changeCertDuration(stack: Stack, mesh: Domain[], evidence: string[]): Promise<void> {
    const before = await cacerts(mesh[0]);
    await stack.setConfig("istiodCertDuration", { value: "1000h" });
    const result = await stack.up(engineLog("up-cert-duration"));
    const ops = result.summary.resourceChanges ?? {};
    checkOnlyUpdates(ops, "changing istiodCertDuration");
    evidence.push(`up: ${countOps(ops)}`);
    await checkReissued(mesh, 1000, before, evidence);
}

/**
 * Nothing was created, deleted or replaced: a duration is a field of the Certificate, updated in place.
 * @param ops the `up`'s resource changes
 * @param what the change, for the message
 */
export function checkOnlyUpdates(ops: OpMap, what: string): void {
    const replaced = ["replace", "create-replacement", "delete-replaced", "create", "delete"].filter((op) => (ops[op as keyof OpMap] ?? 0) > 0);
    check(replaced.length === 0, `${what} did ${countOps(ops)}`);
}

/**
 * Waits (up to 90 s per cluster) until each cluster's Certificate `cacerts` has the new duration
 * and cert-manager re-issued the secret with that lifetime.
 * @param mesh the domains
 * @param hours the new `istiodCertDuration`, in hours
 * @param before the first domain's `cacerts` before the change: its serial goes into the evidence
 * @param evidence the phase's
 */
export async function checkReissued(mesh: Domain[], hours: number, before: X509Certificate, evidence: string[]): Promise<void> {
    const wanted = new RegExp(`^${hours}h(0m0s)?$`);
    for (const domain of mesh) {
        // A changed duration no longer matches the last CertificateRequest, so cert-manager re-issues; that takes a moment.
        let duration = "";
        let after = await cacerts(domain);
        const lifetime = (certificate: X509Certificate) => (Date.parse(certificate.validTo) - Date.parse(certificate.validFrom)) / 3600_000;
        for (let i = 0; i < 90; i++) {
            const certificate = await kubectlJson<{ spec: { duration: string } }>(domain, "-n", "istio-system", "get", "certificate", "cacerts");
            duration = certificate.spec.duration;
            after = await cacerts(domain);
            if (wanted.test(duration) && Math.abs(lifetime(after) - hours) < 0.02) break;
            await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        check(wanted.test(duration), `${domain.name}: Certificate cacerts has duration ${duration}, want ${hours}h`);
        const lived = Math.round(lifetime(after) * 100) / 100;
        check(Math.abs(lived - hours) < 0.02, `${domain.name}: cacerts was not re-issued for ${hours}h within 90s (lifetime ${lived}h)`);
        evidence.push(`${domain.name}: Certificate duration ${duration}, cacerts re-issued (lifetime ${lived}h${domain === mesh[0] ? `, was serial ${before.serialNumber}, now ${after.serialNumber}` : ""})`);
    }
}
