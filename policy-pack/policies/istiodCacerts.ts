import { ResourcePolicyDefinition, toResourcePolicy } from "../lib/definition";
import { goDurationSeconds } from "../lib/durations";
import { isKind, objectLabel } from "../lib/kubernetes";
import { PlainResource } from "../lib/resource";
import { at, isUnknown, stringAt } from "../lib/values";

export interface IstiodCacertsConfig {
    maximumDurationHours: number;
    secretName: string;
    istioNamespace: string;
}

/** cert-manager's default Certificate duration (90 days) when spec.duration is unset. */
export const certManagerDefaultDurationHours = 2160;

/**
 * istiod's intermediate CA (`cacerts`), issued by cert-manager under the domain root: short-lived
 * so that a leaked signing key expires soon, and renewed before it runs out.
 */
export function istiodCacertsProblems(resource: PlainResource, config: IstiodCacertsConfig): string[] {
    if (!isKind(resource, "cert-manager.io", "Certificate")) return [];
    if (stringAt(resource.props, ["spec", "secretName"]) !== config.secretName) return [];
    const label = `${objectLabel(resource)} (istiod ${config.secretName})`;
    const problems: string[] = [];
    const spec = at(resource.props, ["spec"]);

    const isCa = at(spec, ["isCA"]);
    if (!isUnknown(isCa) && isCa !== true) problems.push(`${label} is not a CA; set spec.isCA: true (istiod signs with it).`);

    const namespace = stringAt(resource.props, ["metadata", "namespace"]);
    if (!isUnknown(namespace) && namespace !== config.istioNamespace) {
        problems.push(`${label} lands in namespace ${namespace ?? "(unset)"}, where istiod does not read it; declare it in ${config.istioNamespace}.`);
    }

    const durationText = at(spec, ["duration"]);
    let durationSeconds: number | undefined = certManagerDefaultDurationHours * 3600;
    if (isUnknown(durationText)) durationSeconds = undefined;
    else if (durationText !== undefined) {
        durationSeconds = typeof durationText === "string" ? goDurationSeconds(durationText) : undefined;
        if (durationSeconds === undefined || durationSeconds <= 0) {
            problems.push(`${label} spec.duration ${JSON.stringify(durationText)} is not a positive Go duration; use e.g. "1440h".`);
            durationSeconds = undefined;
        } else if (durationSeconds > config.maximumDurationHours * 3600) {
            problems.push(
                `${label} lives ${durationText}, longer than ${config.maximumDurationHours}h (90 days); set spec.duration to at most ${config.maximumDurationHours}h (config istiodCertDuration).`,
            );
        }
    }

    const renewBefore = at(spec, ["renewBefore"]);
    if (renewBefore !== undefined && !isUnknown(renewBefore)) {
        const renewSeconds = typeof renewBefore === "string" ? goDurationSeconds(renewBefore) : undefined;
        if (renewSeconds === undefined || renewSeconds <= 0) {
            problems.push(`${label} spec.renewBefore ${JSON.stringify(renewBefore)} is not a positive Go duration; use e.g. "360h".`);
        } else if (durationSeconds !== undefined && renewSeconds >= durationSeconds) {
            problems.push(
                `${label} renews ${renewBefore} before expiry, not less than its whole lifetime, so cert-manager would reissue it continuously; set spec.renewBefore shorter than spec.duration (config istiodCertRenewBefore).`,
            );
        }
    }
    const percentage = at(spec, ["renewBeforePercentage"]);
    if (percentage !== undefined && !isUnknown(percentage) && (typeof percentage !== "number" || percentage <= 0 || percentage >= 100)) {
        problems.push(`${label} spec.renewBeforePercentage ${JSON.stringify(percentage)} is not a percentage strictly between 0 and 100; renew some time before expiry.`);
    }
    return problems;
}

export const definition: ResourcePolicyDefinition<IstiodCacertsConfig> = {
    scope: "resource",
    name: "istiod-cacerts-rotation",
    description:
        "The cert-manager Certificate behind istiod's plug-in CA (spec.secretName cacerts) is a CA in istio-system, lives at most 90 days (spec.duration, Go duration; cert-manager's default 2160h when unset) and renews before it expires (renewBefore shorter than duration).",
    enforcementLevel: "mandatory",
    config: {
        maximumDurationHours: { schema: { type: "integer", minimum: 1, description: "Longest allowed lifetime of istiod's CA certificate, in hours." }, default: 2160 },
        secretName: { schema: { type: "string", description: "Secret istiod reads its plug-in CA from." }, default: "cacerts" },
        istioNamespace: { schema: { type: "string", description: "Namespace istiod runs in." }, default: "istio-system" },
    },
    validate: istiodCacertsProblems,
};

export const policy = toResourcePolicy(definition);
