import { StackFinding, StackPolicyDefinition, toStackPolicy } from "../lib/definition";
import { clusterLabel, releaseLabel } from "../lib/kubernetes";
import { PlainResource } from "../lib/resource";
import { federationsOf, spireInstallsOf } from "../lib/spire";

export function trustDomainUniquenessFindings(resources: PlainResource[]): StackFinding[] {
    const findings: StackFinding[] = [];

    // Each SPIRE installation is its own trust domain: two clusters sharing one would issue
    // colliding identities under two different roots.
    const installs = spireInstallsOf(resources);
    const byDomain = new Map<string, PlainResource[]>();
    for (const install of installs) {
        if (typeof install.trustDomain !== "string" || install.trustDomain === "") continue;
        byDomain.set(install.trustDomain, [...(byDomain.get(install.trustDomain) ?? []), install.release]);
    }
    for (const [domain, releases] of byDomain) {
        if (releases.length < 2) continue;
        for (const release of releases) {
            const others = releases.filter((other) => other !== release).map(releaseLabel);
            findings.push({
                urn: release.urn,
                message: `${releaseLabel(release)} uses trust domain "${domain}", as does ${others.join(", ")}; give every SPIRE installation (every domain in config) its own trust domain.`,
            });
        }
    }

    // Within one cluster, one federation per peer: a second one for the same domain conflicts.
    const federations = resources.flatMap(federationsOf);
    const seen = new Map<string, string>();
    for (const federation of federations) {
        if (typeof federation.trustDomain !== "string" || federation.cluster === undefined) continue;
        const key = `${federation.cluster}\u0000${federation.trustDomain}`;
        const first = seen.get(key);
        if (first === undefined) {
            seen.set(key, federation.label);
            continue;
        }
        findings.push({
            urn: federation.source.urn,
            message: `${federation.label} federates ${clusterLabel(federation.cluster)} with "${federation.trustDomain}", which ${first} already does; keep one ClusterFederatedTrustDomain per peer trust domain and cluster.`,
        });
    }
    return findings;
}

export const definition: StackPolicyDefinition = {
    scope: "stack",
    name: "spiffe-trust-domains-unique",
    description:
        "Trust domains are unique across the stack: no two SPIRE releases share values.global.spire.trustDomain, and no cluster holds two ClusterFederatedTrustDomains (CRs or chart-managed) for the same peer.",
    enforcementLevel: "mandatory",
    config: {},
    validate: (resources) => trustDomainUniquenessFindings(resources),
};

export const policy = toStackPolicy(definition);
