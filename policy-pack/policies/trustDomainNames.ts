import { ResourcePolicyDefinition, toResourcePolicy } from "../lib/definition";
import { isReleaseOf, releaseLabel, releaseValues } from "../lib/kubernetes";
import { PlainResource } from "../lib/resource";
import { federationsOf, isSpireRelease, spiffeIdEntriesOf, spireInstallOf } from "../lib/spire";
import { trustDomainProblem } from "../lib/spiffe";
import { at, isUnknown, itemsAt } from "../lib/values";

/** Where a resource names a trust domain, and the value it gives there. */
interface Occurrence {
    where: string;
    value: unknown;
    /** What the product falls back to when the value is absent, for the message. */
    fallback?: string;
}

function occurrencesOf(resource: PlainResource): Occurrence[] {
    const found: Occurrence[] = [];
    if (isSpireRelease(resource)) {
        found.push({ where: `${releaseLabel(resource)} global.spire.trustDomain`, value: spireInstallOf(resource).trustDomain, fallback: "example.org" });
    }
    for (const federation of federationsOf(resource)) {
        found.push({ where: `${federation.label} trustDomain`, value: federation.trustDomain });
    }
    for (const entry of spiffeIdEntriesOf(resource)) {
        itemsAt(entry.federatesWith, []).forEach((value, index) => {
            found.push({ where: `${entry.label} federatesWith[${index}]`, value });
        });
    }
    if (isReleaseOf(resource, "istiod")) {
        const meshConfig = at(releaseValues(resource), ["meshConfig"]);
        const trustDomain = at(meshConfig, ["trustDomain"]);
        if (trustDomain !== undefined) found.push({ where: `${releaseLabel(resource)} meshConfig.trustDomain`, value: trustDomain, fallback: "cluster.local" });
        itemsAt(meshConfig, ["trustDomainAliases"]).forEach((value, index) => {
            found.push({ where: `${releaseLabel(resource)} meshConfig.trustDomainAliases[${index}]`, value });
        });
        itemsAt(meshConfig, ["caCertificates"]).forEach((certificate, index) => {
            itemsAt(certificate, ["trustDomains"]).forEach((value, domainIndex) => {
                found.push({ where: `${releaseLabel(resource)} meshConfig.caCertificates[${index}].trustDomains[${domainIndex}]`, value });
            });
        });
    }
    return found;
}

const advice = "use a bare SPIFFE trust domain name (lowercase letters, digits, '.', '-' and '_'; no scheme, port or path), e.g. foo.com";

export function trustDomainNameProblems(resource: PlainResource): string[] {
    const problems: string[] = [];
    for (const { where, value, fallback } of occurrencesOf(resource)) {
        if (isUnknown(value)) continue;
        if (value === undefined || value === "") {
            const falls = fallback ? ` (the chart falls back to ${fallback})` : "";
            problems.push(`${where} is not set${falls}; set it to the domain's SPIFFE trust domain, e.g. foo.com.`);
            continue;
        }
        if (typeof value !== "string") {
            problems.push(`${where} is not a string; set it to a SPIFFE trust domain name such as foo.com.`);
            continue;
        }
        const problem = trustDomainProblem(value);
        if (problem) problems.push(`${where} "${value}" ${problem}; ${advice}.`);
    }
    for (const entry of spiffeIdEntriesOf(resource)) {
        const names = itemsAt(entry.federatesWith, []).filter((item): item is string => typeof item === "string");
        const repeated = [...new Set(names.filter((name, index) => names.indexOf(name) !== index))];
        for (const name of repeated) problems.push(`${entry.label} lists "${name}" in federatesWith more than once; list each peer trust domain once.`);
    }
    return problems;
}

export const definition: ResourcePolicyDefinition = {
    scope: "resource",
    name: "spiffe-trust-domain-names",
    description:
        "Every trust domain the program names (SPIRE release global.spire.trustDomain, ClusterFederatedTrustDomain trustDomain, ClusterSPIFFEID/ClusterStaticEntry federatesWith, chart-managed entries, istiod meshConfig.trustDomain, trustDomainAliases and caCertificates[].trustDomains) is a valid SPIFFE trust domain name: lowercase letters, digits, '.', '-', '_', with no scheme, port or path.",
    enforcementLevel: "mandatory",
    config: {},
    validate: (resource) => trustDomainNameProblems(resource),
};

export const policy = toResourcePolicy(definition);
