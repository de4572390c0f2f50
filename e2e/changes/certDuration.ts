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
    const replaced = ["replace", "create-replacement", "delete-replaced", "create", "delete"].filter((op) => (ops[op as keyof OpMap] ?? 0) > 0);
    check(replaced.length === 0, `changing istiodCertDuration did ${countOps(ops)}`);
    evidence.push(`up: ${countOps(ops)}`);
    for (const domain of mesh) {
        // A changed duration no longer matches the last CertificateRequest, so cert-manager re-issues; that takes a moment.
        let duration = "";
        let after = await cacerts(domain);
        const lifetime = (certificate: X509Certificate) => (Date.parse(certificate.validTo) - Date.parse(certificate.validFrom)) / 3600_000;
        for (let i = 0; i < 90; i++) {
            const certificate = await kubectlJson<{ spec: { duration: string } }>(domain, "-n", "istio-system", "get", "certificate", "cacerts");
            duration = certificate.spec.duration;
            after = await cacerts(domain);
            if (/^1000h(0m0s)?$/.test(duration) && Math.abs(lifetime(after) - 1000) < 0.02) break;
            await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        check(/^1000h(0m0s)?$/.test(duration), `${domain.name}: Certificate cacerts has duration ${duration}, want 1000h`);
        const hours = Math.round(lifetime(after) * 100) / 100;
        check(Math.abs(hours - 1000) < 0.02, `${domain.name}: cacerts was not re-issued for 1000h within 90s (lifetime ${hours}h)`);
        evidence.push(`${domain.name}: Certificate duration ${duration}, cacerts re-issued (lifetime ${hours}h${domain === mesh[0] ? `, was serial ${before.serialNumber}, now ${after.serialNumber}` : ""})`);
    }
}
