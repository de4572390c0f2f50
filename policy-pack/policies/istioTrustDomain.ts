import { StackFinding, StackPolicyDefinition, toStackPolicy } from "../lib/definition";
import { isReleaseOf, releaseLabel, releaseValues } from "../lib/kubernetes";
import { PlainResource } from "../lib/resource";
import { spireInstallsOf } from "../lib/spire";
import { at, isUnknown, itemsAt } from "../lib/values";

/** The trust domains istiod accepts for mTLS besides its own, without treating them as its own: caCertificates[].trustDomains. */
function acceptedPeers(meshConfig: unknown): Set<unknown> {
    const accepted = new Set<unknown>();
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
        const aliases = new Set<unknown>(itemsAt(meshConfig, ["trustDomainAliases"]));
        for (const peer of installs) {
            if (peer.trustDomain === own) continue;
            if (aliases.has(peer.trustDomain)) {
                // Istio 1.30 rewrites AuthorizationPolicy principals of its own domain to every alias
                // (pilot/pkg/security/trustdomain/bundle.go:54-120).
                findings.push({
                    urn: istiod.urn,
                    message: `${releaseLabel(istiod)} lists peer trust domain ${String(peer.trustDomain)} in meshConfig.trustDomainAliases: its identities would then satisfy AuthorizationPolicies written for ${own}'s (spiffe://${String(peer.trustDomain)}/ns/x/sa/y passes for ${own}/ns/x/sa/y). List it in meshConfig.caCertificates[].trustDomains instead.`,
                });
                continue;
            }
            if (accepted.has(peer.trustDomain)) continue;
            findings.push({
                urn: istiod.urn,
                message: `${releaseLabel(istiod)} does not accept peer trust domain ${String(peer.trustDomain)}; add it to meshConfig.caCertificates[].trustDomains, or cross-cluster mTLS from it is refused.`,
            });
        }
    }
    return findings;
}

export const definition: StackPolicyDefinition = {
    scope: "stack",
    name: "istio-trust-domain",
    description:
        "In each cluster with both SPIRE and istiod, istiod's meshConfig.trustDomain equals the SPIRE trust domain, and every other SPIRE trust domain in the stack is accepted for mTLS through caCertificates[].trustDomains, never as a trustDomainAlias (an alias would let its identities satisfy AuthorizationPolicies written for this domain's).",
    enforcementLevel: "mandatory",
    config: {},
    validate: (resources) => istioTrustDomainFindings(resources),
};

export const policy = toStackPolicy(definition);
