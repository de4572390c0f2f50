import { StackFinding, StackPolicyDefinition, toStackPolicy } from "../lib/definition";
import { clusterLabel, isDefaultProvider, isKind, isKubernetesResource, objectLabel } from "../lib/kubernetes";
import { PlainResource } from "../lib/resource";
import { at, entriesAt, isRecord, isUnknown, stringAt } from "../lib/values";

export interface StrictMtlsConfig {
    rootNamespace: string;
}

export const peerAuthenticationGroup = "security.istio.io";

function isPeerAuthentication(resource: PlainResource): boolean {
    return isKind(resource, peerAuthenticationGroup, "PeerAuthentication");
}

/** Whether a PeerAuthentication selects no workloads, i.e. applies to its whole namespace (or mesh). */
function hasNoSelector(resource: PlainResource): boolean {
    const selector = at(resource.props, ["spec", "selector"]);
    if (selector === undefined || selector === null) return true;
    return isRecord(selector) && entriesAt(selector, ["matchLabels"]).length === 0;
}

/** The modes a PeerAuthentication sets below STRICT, with where it sets them. */
function weakerModes(resource: PlainResource): string[] {
    const weaker: string[] = [];
    const mode = stringAt(resource.props, ["spec", "mtls", "mode"]);
    if (mode === "PERMISSIVE" || mode === "DISABLE") weaker.push(`mtls.mode ${mode}`);
    for (const [port, setting] of entriesAt(resource.props, ["spec", "portLevelMtls"])) {
        const portMode = at(setting, ["mode"]);
        if (portMode === "PERMISSIVE" || portMode === "DISABLE") weaker.push(`portLevelMtls[${port}].mode ${portMode}`);
    }
    return weaker;
}

export function strictMtlsFindings(resources: PlainResource[], config: StrictMtlsConfig): StackFinding[] {
    const findings: StackFinding[] = [];
    // A default provider is no cluster of the mesh; kubernetes-explicit-provider reports its users.
    const providers = resources.filter(isKubernetesResource).flatMap((resource) => (resource.provider ? [resource.provider] : []));
    const clusters = [...new Set(providers)].filter((provider) => !isDefaultProvider(provider));
    const policies = resources.filter(isPeerAuthentication);
    for (const cluster of clusters) {
        const inCluster = policies.filter((resource) => resource.provider === cluster);
        const meshWide = inCluster.filter((resource) => stringAt(resource.props, ["metadata", "namespace"]) === config.rootNamespace && hasNoSelector(resource));
        const strict = meshWide.filter((resource) => {
            const mode = stringAt(resource.props, ["spec", "mtls", "mode"]);
            return mode === "STRICT" || isUnknown(mode);
        });
        if (strict.length === 0) {
            findings.push({
                urn: cluster,
                message: `${clusterLabel(cluster)} has no mesh-wide STRICT PeerAuthentication; declare a PeerAuthentication (security.istio.io/v1) in ${config.rootNamespace} without a selector and with spec.mtls.mode: STRICT, so no workload accepts plain text.`,
            });
        }
        for (const resource of inCluster) {
            for (const weaker of weakerModes(resource)) {
                findings.push({
                    urn: resource.urn,
                    message: `${objectLabel(resource)} sets ${weaker}, weakening the mesh-wide STRICT mTLS; remove it or set STRICT.`,
                });
            }
        }
    }
    return findings;
}

export const definition: StackPolicyDefinition<StrictMtlsConfig> = {
    scope: "stack",
    name: "istio-strict-mtls",
    description:
        "Each cluster (each Kubernetes provider that manages resources) has a mesh-wide PeerAuthentication in the Istio root namespace with no selector and mtls.mode STRICT, and no PeerAuthentication lowers any mode to PERMISSIVE or DISABLE.",
    enforcementLevel: "mandatory",
    config: {
        rootNamespace: { schema: { type: "string", description: "Istio's root namespace (meshConfig.rootNamespace)." }, default: "istio-system" },
    },
    validate: strictMtlsFindings,
};

export const policy = toStackPolicy(definition);
