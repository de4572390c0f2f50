import { ResourcePolicyDefinition, toResourcePolicy } from "../lib/definition";
import { PlainResource } from "../lib/resource";
import { at, isUnknown, stringAt } from "../lib/values";

export const gkeClusterType = "gcp:container/cluster:Cluster";
export const gkeNodePoolType = "gcp:container/nodePool:NodePool";

export function gkeLabel(resource: PlainResource): string {
    const name = stringAt(resource.props, ["name"]);
    const kind = resource.type === gkeNodePoolType ? "GKE node pool" : "GKE cluster";
    return `${kind} "${typeof name === "string" ? name : resource.name}"`;
}

function hasValue(value: unknown): boolean {
    return value !== undefined && value !== null && value !== "";
}

/** Node metadata exposed to pods bypasses Workload Identity (pods would act as the node account). */
function nodeMetadataProblem(label: string, nodeConfigPath: string, nodeConfig: unknown): string | undefined {
    const mode = at(nodeConfig, ["workloadMetadataConfig", "mode"]);
    if (mode === "GCE_METADATA" || mode === "UNSPECIFIED") {
        return `${label} ${nodeConfigPath}.workloadMetadataConfig.mode is ${mode}, which lets pods use the node's service account; set GKE_METADATA.`;
    }
    return undefined;
}

export function gkeSecurityProblems(resource: PlainResource): string[] {
    const label = gkeLabel(resource);
    const props = resource.props;
    if (resource.type === gkeNodePoolType) {
        const problem = nodeMetadataProblem(label, "nodeConfig", at(props, ["nodeConfig"]));
        return problem ? [problem] : [];
    }
    if (resource.type !== gkeClusterType) return [];
    const problems: string[] = [];

    const pool = at(props, ["workloadIdentityConfig", "workloadPool"]);
    if (!isUnknown(pool) && (typeof pool !== "string" || !/^[a-z0-9.:-]+\.svc\.id\.goog$/.test(pool))) {
        problems.push(`${label} has no Workload Identity pool; set workloadIdentityConfig.workloadPool to "<project>.svc.id.goog".`);
    }
    if (at(props, ["enableShieldedNodes"]) === false) {
        problems.push(`${label} disables shielded nodes; set enableShieldedNodes: true (secure boot and integrity monitoring for nodes).`);
    }
    const channel = at(props, ["releaseChannel", "channel"]);
    if (!isUnknown(channel) && (typeof channel !== "string" || channel === "" || channel === "UNSPECIFIED")) {
        problems.push(`${label} is on no release channel; set releaseChannel.channel (REGULAR, STABLE or RAPID) so GKE keeps it patched.`);
    }
    if (at(props, ["enableLegacyAbac"]) === true) {
        problems.push(`${label} enables legacy ABAC, which bypasses RBAC; set enableLegacyAbac: false.`);
    }
    if (hasValue(at(props, ["masterAuth", "username"])) || hasValue(at(props, ["masterAuth", "password"]))) {
        problems.push(`${label} enables basic authentication; remove masterAuth.username and masterAuth.password.`);
    }
    if (at(props, ["masterAuth", "clientCertificateConfig", "issueClientCertificate"]) === true) {
        problems.push(`${label} issues a static client certificate; set masterAuth.clientCertificateConfig.issueClientCertificate: false.`);
    }
    const problem = nodeMetadataProblem(label, "nodeConfig", at(props, ["nodeConfig"]));
    if (problem) problems.push(problem);
    return problems;
}

export const definition: ResourcePolicyDefinition = {
    scope: "resource",
    name: "gke-cluster-security",
    description:
        "GKE clusters use Workload Identity (workloadIdentityConfig.workloadPool), shielded nodes, a release channel, no legacy ABAC, no basic auth and no client certificate; node pools keep node metadata hidden (GKE_METADATA).",
    enforcementLevel: "mandatory",
    config: {},
    validate: (resource) => gkeSecurityProblems(resource),
};

export const policy = toResourcePolicy(definition);
