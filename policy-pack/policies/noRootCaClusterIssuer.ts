import { rootCaSecretLabel } from "../../lib/rootCa";
import { StackFinding, StackPolicyDefinition, toStackPolicy } from "../lib/definition";
import { clusterOf, isKind, labelsOf, objectLabel } from "../lib/kubernetes";
import { PlainResource } from "../lib/resource";
import { at, isRecord, isUnknown, stringAt } from "../lib/values";

export interface NoRootCaClusterIssuerConfig {
    rootSecretLabel: string;
    clusterResourceNamespace: string;
}

/** `namespace/name` of each root Secret whose name and namespace are known, per cluster. */
function rootSecretsByCluster(resources: PlainResource[], label: string): Map<string | undefined, Set<string>> {
    const found = new Map<string | undefined, Set<string>>();
    for (const resource of resources) {
        if (!isKind(resource, "", "Secret") || !(label in labelsOf(resource))) continue;
        const name = stringAt(resource.props, ["metadata", "name"]);
        const namespace = stringAt(resource.props, ["metadata", "namespace"]);
        if (typeof name !== "string" || typeof namespace !== "string") continue;
        const cluster = clusterOf(resource);
        if (!found.has(cluster)) found.set(cluster, new Set());
        found.get(cluster)!.add(`${namespace}/${name}`);
    }
    return found;
}

/**
 * A CA ClusterIssuer signs for every namespace: cert-manager's approver approves each request to
 * it, and cert-manager's `edit` ClusterRole (aggregated to every namespace's editors) may create
 * Certificates. Backed by a domain root, it lets any namespace editor obtain a CA certificate
 * under the root and mint identities that the domain and its federated peers accept.
 */
export function rootCaClusterIssuerFindings(resources: PlainResource[], config: NoRootCaClusterIssuerConfig): StackFinding[] {
    const roots = rootSecretsByCluster(resources, config.rootSecretLabel);
    const findings: StackFinding[] = [];
    for (const resource of resources) {
        if (!isKind(resource, "cert-manager.io", "ClusterIssuer")) continue;
        const ca = at(resource.props, ["spec", "ca"]);
        if (!isRecord(ca)) continue;
        const secretName = stringAt(ca, ["secretName"]);
        if (isUnknown(secretName) || typeof secretName !== "string") continue;
        // A ClusterIssuer reads its Secret from cert-manager's cluster resource namespace.
        const secret = `${config.clusterResourceNamespace}/${secretName}`;
        if (!roots.get(clusterOf(resource))?.has(secret)) continue;
        findings.push({
            urn: resource.urn,
            message:
                `${objectLabel(resource)} is a CA ClusterIssuer backed by Secret ${secret}, a domain root CA (label ${config.rootSecretLabel}). ` +
                "cert-manager approves every request to a ClusterIssuer and lets any namespace editor create Certificates, so anyone who edits " +
                "a namespace could obtain a CA certificate under the root. Issue from a namespaced CA Issuer in the namespace that needs it, " +
                "backed by a copy of the root Secret there.",
        });
    }
    return findings;
}

export const definition: StackPolicyDefinition<NoRootCaClusterIssuerConfig> = {
    scope: "stack",
    name: "no-root-ca-cluster-issuer",
    description:
        "No cert-manager CA ClusterIssuer (spec.ca) is backed by a domain root CA Secret (a Secret labelled as a root, in cert-manager's cluster resource namespace): such an issuer would sign CA certificates under the root for any namespace editor.",
    enforcementLevel: "mandatory",
    config: {
        rootSecretLabel: {
            schema: { type: "string", description: "Label key that marks a Secret holding a domain root CA." },
            default: rootCaSecretLabel,
        },
        clusterResourceNamespace: {
            schema: { type: "string", description: "cert-manager's cluster resource namespace, where ClusterIssuers read Secrets." },
            default: "cert-manager",
        },
    },
    validate: rootCaClusterIssuerFindings,
};

export const policy = toStackPolicy(definition);
