import { StackFinding, StackPolicyDefinition, toStackPolicy } from "../lib/definition";
import { clusterLabel, isKind, labelsOf, releaseLabel } from "../lib/kubernetes";
import { PlainResource } from "../lib/resource";
import { federatedDomains, Federation, federationsOf, SpiffeIdEntry, spiffeIdEntriesOf, SpireInstall, spireInstallsOf } from "../lib/spire";
import { serverSpiffeId, spiffeBundleProblem, trustDomainProblem } from "../lib/spiffe";
import { isUnknown } from "../lib/values";
import { bundleEndpointLabel } from "./bundleEndpointService";

/** Why a bundle endpoint URL is unusable, or undefined when it is an https URL SPIRE can fetch. */
export function bundleEndpointUrlProblem(url: string): string | undefined {
    let parsed: URL;
    try {
        parsed = new URL(url);
    } catch {
        return "is not a valid URL (a doubled port such as https://IP:8443:8443 is a classic slip)";
    }
    if (parsed.protocol !== "https:") return "is not an https URL";
    if (parsed.username !== "" || parsed.password !== "") return "carries user info, which SPIRE rejects";
    if (parsed.hostname === "") return "has no host";
    return undefined;
}

function federationProblems(federation: Federation, install: SpireInstall): string[] {
    const problems: string[] = [];
    const { label } = federation;
    const peer = federation.trustDomain;
    if (typeof peer !== "string") return problems;
    if (peer === install.trustDomain) {
        problems.push(`${label} federates ${releaseLabel(install.release)} with its own trust domain "${peer}"; federate only with peers.`);
    }
    if (!isUnknown(federation.profileType) && federation.profileType !== "https_spiffe") {
        problems.push(
            `${label} uses bundle endpoint profile ${JSON.stringify(federation.profileType ?? null)}; set bundleEndpointProfile.type: https_spiffe, so the peer's SPIRE server authenticates with its own SPIFFE ID.`,
        );
    }
    const expectedId = serverSpiffeId(peer);
    if (!isUnknown(federation.endpointSpiffeId) && federation.endpointSpiffeId !== expectedId) {
        problems.push(
            `${label} expects endpoint SPIFFE ID ${JSON.stringify(federation.endpointSpiffeId ?? null)}; set bundleEndpointProfile.endpointSPIFFEID: ${expectedId}.`,
        );
    }
    const url = federation.bundleEndpointUrl;
    if (!isUnknown(url)) {
        const problem = typeof url === "string" ? bundleEndpointUrlProblem(url) : "is not set";
        if (problem) problems.push(`${label} bundleEndpointURL ${typeof url === "string" ? `"${url}" ` : ""}${problem}; set https://<peer bundle endpoint address>:<port>.`);
    }
    const bundle = federation.trustDomainBundle;
    if (!isUnknown(bundle)) {
        const problem = typeof bundle === "string" ? spiffeBundleProblem(bundle) : "is not set";
        if (problem) {
            problems.push(
                `${label} trustDomainBundle ${problem}; bootstrap it with ${peer}'s SPIFFE bundle (its root CA as an x509-svid JWK), or SPIRE cannot authenticate the peer's endpoint on first contact.`,
            );
        }
    }
    return problems;
}

function classNameProblem(label: string, className: unknown, install: SpireInstall): string | undefined {
    if (install.watchClassless || install.className === undefined || isUnknown(className)) return undefined;
    if (className === install.className) return undefined;
    const given = typeof className === "string" && className !== "" ? `has spec.className "${className}"` : "has no spec.className";
    return `${label} ${given}, so the controller manager of ${releaseLabel(install.release)} ignores it; set spec.className: ${install.className}.`;
}

export function federationFindings(resources: PlainResource[]): StackFinding[] {
    const findings: StackFinding[] = [];
    const installs = spireInstallsOf(resources).filter(
        (install) => typeof install.trustDomain === "string" && trustDomainProblem(install.trustDomain) === undefined,
    );
    const domains = [...new Set(installs.map((install) => install.trustDomain as string))];
    const federations = resources.flatMap(federationsOf);
    const entries: SpiffeIdEntry[] = resources.flatMap(spiffeIdEntriesOf);
    const bundleEndpoints = resources.filter(
        (resource) => isKind(resource, "", "Service") && labelsOf(resource)[bundleEndpointLabel.key] === bundleEndpointLabel.value,
    );

    for (const install of installs) {
        const own = install.trustDomain as string;
        const where = install.cluster === undefined ? releaseLabel(install.release) : clusterLabel(install.cluster);
        const local = federations.filter((federation) => federation.cluster === install.cluster);
        const peers = domains.filter((domain) => domain !== own);

        for (const peer of peers) {
            if (!local.some((federation) => federation.trustDomain === peer)) {
                findings.push({
                    urn: install.release.urn,
                    message: `${where} (trust domain ${own}) has no ClusterFederatedTrustDomain for peer ${peer}; declare one with trustDomain ${peer}, bundleEndpointProfile {type: https_spiffe, endpointSPIFFEID: ${serverSpiffeId(peer)}} and ${peer}'s bundle as trustDomainBundle.`,
                });
            }
        }
        for (const federation of local) {
            for (const message of federationProblems(federation, install)) findings.push({ urn: federation.source.urn, message });
            if (!federation.chartManaged) {
                const problem = classNameProblem(federation.label, federation.className, install);
                if (problem) findings.push({ urn: federation.source.urn, message: problem });
            }
        }
        for (const entry of entries.filter((candidate) => candidate.cluster === install.cluster)) {
            for (const domain of federatedDomains(entry.federatesWith)) {
                if (domain !== own && !local.some((federation) => federation.trustDomain === domain)) {
                    findings.push({
                        urn: entry.source.urn,
                        message: `${entry.label} federates with ${domain}, but ${where} holds no ClusterFederatedTrustDomain for it, and SPIRE refuses such entries (no workload gets an SVID); declare the federation or drop ${domain} from federatesWith.`,
                    });
                }
            }
            if (!entry.chartManaged) {
                const problem = classNameProblem(entry.label, entry.className, install);
                if (problem) findings.push({ urn: entry.source.urn, message: problem });
            }
        }
        if (peers.length > 0 && !bundleEndpoints.some((service) => service.provider === install.cluster)) {
            findings.push({
                urn: install.release.urn,
                message: `${where} (trust domain ${own}) has no bundle endpoint Service, so peers cannot fetch its bundle; declare a Service labelled ${bundleEndpointLabel.key}: ${bundleEndpointLabel.value} that exposes the SPIRE server's port 8443.`,
            });
        }
    }
    return findings;
}

export const definition: StackPolicyDefinition = {
    scope: "stack",
    name: "spire-federation",
    description:
        "Every SPIRE trust domain in the stack federates with every other: in each cluster (identified by its Kubernetes provider) a ClusterFederatedTrustDomain per peer with profile https_spiffe, endpoint SPIFFE ID spiffe://<peer>/spire/server, an https bundle endpoint URL and a non-empty SPIFFE bootstrap bundle, carrying the SPIRE release's className; every federatesWith names a federated domain; each cluster with peers has a bundle endpoint Service.",
    enforcementLevel: "mandatory",
    config: {},
    validate: (resources) => federationFindings(resources),
};

export const policy = toStackPolicy(definition);
