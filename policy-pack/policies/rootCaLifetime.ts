import { ResourcePolicyDefinition, toResourcePolicy } from "../lib/definition";
import { PlainResource } from "../lib/resource";
import { at, isUnknown, itemsAt } from "../lib/values";

export const selfSignedCertType = "tls:index/selfSignedCert:SelfSignedCert";

export interface RootCaConfig {
    minimumValidityHours: number;
}

/**
 * A root CA the program generates is a `tls` self-signed certificate: it must be a CA that can
 * sign, and live long enough that rotating it (which re-federates every peer) is rare.
 */
export function rootCaProblems(resource: PlainResource, config: RootCaConfig): string[] {
    if (resource.type !== selfSignedCertType) return [];
    const label = `Root CA certificate "${resource.name}"`;
    const problems: string[] = [];
    const isCa = at(resource.props, ["isCaCertificate"]);
    if (!isUnknown(isCa) && isCa !== true) {
        problems.push(`${label} is not a CA certificate; set isCaCertificate: true (it anchors the domain's trust).`);
    }
    const uses = at(resource.props, ["allowedUses"]);
    if (!isUnknown(uses) && !itemsAt(uses, []).includes("cert_signing")) {
        problems.push(`${label} may not sign certificates; add "cert_signing" to allowedUses.`);
    }
    const hours = at(resource.props, ["validityPeriodHours"]);
    if (!isUnknown(hours) && (typeof hours !== "number" || hours < config.minimumValidityHours)) {
        problems.push(
            `${label} is valid for ${typeof hours === "number" ? `${hours}h` : "an unset period"}, less than ${config.minimumValidityHours}h; set validityPeriodHours to at least ${config.minimumValidityHours} (config rootCaValidity).`,
        );
    }
    return problems;
}

export const definition: ResourcePolicyDefinition<RootCaConfig> = {
    scope: "resource",
    name: "root-ca-lifetime",
    description:
        "Every generated root CA (tls SelfSignedCert) is a CA certificate allowed to sign certificates and valid for at least a year, so that root rotation, which every peer's bundle must follow, is rare.",
    enforcementLevel: "mandatory",
    config: {
        minimumValidityHours: { schema: { type: "integer", minimum: 1, description: "Shortest allowed root CA lifetime in hours." }, default: 8760 },
    },
    validate: rootCaProblems,
};

export const policy = toResourcePolicy(definition);
