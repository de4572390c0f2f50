import { peerReaderServiceAccountPrefix } from "../../lib/peerReader";
import { StackFinding, StackPolicyDefinition, toStackPolicy } from "../lib/definition";
import { readerKubeconfigProblems, ReaderKubeconfigRules } from "../lib/readerKubeconfig";
import { PlainResource, rootStackType } from "../lib/resource";
import { at, isRecord, isUnknown } from "../lib/values";

export interface FederationCredentialsReaderOnlyConfig extends ReaderKubeconfigRules {
    /** The stack output peers read credentials from. */
    credentialsOutput: string;
}

/**
 * Anyone a stack's owners let read its outputs (every peer team, through StackReference) gets
 * every entry of the credentials output (cluster name, then peer trust domain, to kubeconfig), so
 * each must be a secret (kept out of plain state and displays) and must be a peer reader's token,
 * whose account `peer-reader-rbac` holds to reading the mesh's services and endpoints.
 */
export function federationCredentialFindings(resources: PlainResource[], config: FederationCredentialsReaderOnlyConfig): StackFinding[] {
    const findings: StackFinding[] = [];
    for (const stack of resources.filter((resource) => resource.type === rootStackType)) {
        const output = at(stack.props, [config.credentialsOutput]);
        if (output === undefined || isUnknown(output)) continue;
        const label = `Stack output "${config.credentialsOutput}"`;
        const shape = `${label} is not a map of cluster name to a map of peer trust domain to kubeconfig; peers cannot read it and it cannot be judged.`;
        if (!isRecord(output)) {
            findings.push({ urn: stack.urn, message: shape });
            continue;
        }
        for (const [cluster, issued] of Object.entries(output)) {
            if (isUnknown(issued)) continue;
            if (!isRecord(issued)) {
                // A kubeconfig straight under the cluster is one credential shared by every peer.
                findings.push({ urn: stack.urn, message: `${label} entry "${cluster}" is not a map of peer trust domain to kubeconfig: every peer would share one credential, and removing one would revoke none. ${shape}` });
                continue;
            }
            for (const [peer, kubeconfig] of Object.entries(issued)) {
                const entry = `${label} entry "${cluster}"."${peer}"`;
                // Only the offline plan knows secretness: @pulumi/policy hands stack policies secrets
                // unwrapped, and a stack policy has no remediation to fall back on.
                if (!isUnknown(kubeconfig) && stack.isSecretPath && !stack.isSecretPath([config.credentialsOutput, cluster, peer])) {
                    findings.push({
                        urn: stack.urn,
                        message: `${entry} is not a Pulumi secret, so the kubeconfig is stored in plain text in the state and shown by \`pulumi stack output\`; export it through pulumi.secret(...).`,
                    });
                }
                for (const problem of readerKubeconfigProblems(kubeconfig, config)) {
                    findings.push({
                        urn: stack.urn,
                        message: `${entry} ${problem}. Every reader of this stack's outputs gets it: export only a peer reader service-account token, never an admin credential.`,
                    });
                }
            }
        }
    }
    return findings;
}

export const definition: StackPolicyDefinition<FederationCredentialsReaderOnlyConfig> = {
    scope: "stack",
    name: "federation-credentials-reader-only",
    description:
        "Every entry of the stack output peers read credentials from (federationCredentials: cluster name, then peer trust domain, to kubeconfig) is a reader-only kubeconfig: one user with only a bearer token, and that token, when known, is a JWT of a peer reader service account. Each entry is a Pulumi secret; @pulumi/policy 1.21 hands stack policies secrets unwrapped, so only the offline plan checks secretness.",
    enforcementLevel: "mandatory",
    config: {
        credentialsOutput: {
            schema: { type: "string", minLength: 1, description: "Name of the stack output that maps cluster names, then peer trust domains, to peer kubeconfigs." },
            default: "federationCredentials",
        },
        readerServiceAccountPrefix: {
            schema: { type: "string", minLength: 1, description: "How the name of a service account whose token the exported kubeconfigs may carry starts." },
            default: peerReaderServiceAccountPrefix,
        },
    },
    validate: federationCredentialFindings,
};

export const policy = toStackPolicy(definition);
