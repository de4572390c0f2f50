import { StackFinding, StackPolicyDefinition, toStackPolicy } from "../lib/definition";
import { isReleaseOf, releaseLabel, releaseValues } from "../lib/kubernetes";
import { PlainResource } from "../lib/resource";
import { spireInstallsOf } from "../lib/spire";
import { at, isUnknown, itemsAt } from "../lib/values";

/** The trust domains istiod accepts besides its own: aliases and caCertificates[].trustDomains. */
function acceptedPeers(meshConfig: unknown): Set<unknown> {
    const accepted = new Set<unknown>(itemsAt(meshConfig, ["trustDomainAliases"]));
    for (const certificate of itemsAt(meshConfig, ["caCertificates"])) {
        for (const domain of itemsAt(certificate, ["trustDomains"])) accepted.add(domain);
    }
    return accepted;
}

export function istioTrustDomainFindings(resources: PlainResource[]): StackFinding[] {
    const findings: StackFinding[] = [];
    const installs = spireInstallsOf(resources).filter((install) => typeof install.trustDomain === "string");
    const istiods = resources.filter((resource) => isReleaseOf(resource, "istiod"));
    for (const istiod of istiods) {
        const install = installs.find((candidate) => candidate.cluster === istiod.provider);
        if (!install) continue;
        const own = install.trustDomain as string;
        // Values not known yet (a preview) cannot be judged.
        if (isUnknown(at(istiod.props, ["values"]))) continue;
        const meshConfig = at(releaseValues(istiod), ["meshConfig"]);
        if (isUnknown(meshConfig)) continue;
        const trustDomain = at(meshConfig, ["trustDomain"]);
        if (!isUnknown(trustDomain) && trustDomain !== own) {
            findings.push({
                urn: istiod.urn,
                message: `${releaseLabel(istiod)} has meshConfig.trustDomain ${JSON.stringify(trustDomain ?? "cluster.local")} but SPIRE in the same cluster issues identities in ${own}; set meshConfig.trustDomain: ${own}.`,
            });
        }
        const accepted = acceptedPeers(meshConfig);
        for (const peer of installs) {
            if (peer.trustDomain === own || accepted.has(peer.trustDomain)) continue;
            findings.push({
                urn: istiod.urn,
                message: `${releaseLabel(istiod)} does not accept peer trust domain ${String(peer.trustDomain)}; add it to meshConfig.trustDomainAliases (or caCertificates[].trustDomains), or cross-cluster calls fail SAN checks.`,
            });
        }
    }
    return findings;
}

export const definition: StackPolicyDefinition = {
    scope: "stack",
    name: "istio-trust-domain",
    description:
        "In each cluster with both SPIRE and istiod, istiod's meshConfig.trustDomain equals the SPIRE trust domain and every other SPIRE trust domain in the stack is accepted (trustDomainAliases or caCertificates[].trustDomains).",
    enforcementLevel: "mandatory",
    config: {},
    validate: (resources) => istioTrustDomainFindings(resources),
};

export const policy = toStackPolicy(definition);
