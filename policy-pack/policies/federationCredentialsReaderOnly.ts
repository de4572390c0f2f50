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
 * every entry of the credentials output, so each must be a secret (kept out of plain state and
 * displays) and must grant no more than reading the mesh's services and endpoints.
 */
export function federationCredentialFindings(resources: PlainResource[], config: FederationCredentialsReaderOnlyConfig): StackFinding[] {
    const findings: StackFinding[] = [];
    for (const stack of resources.filter((resource) => resource.type === rootStackType)) {
        const output = at(stack.props, [config.credentialsOutput]);
        if (output === undefined || isUnknown(output)) continue;
        const label = `Stack output "${config.credentialsOutput}"`;
        if (!isRecord(output)) {
            findings.push({ urn: stack.urn, message: `${label} is not a map of cluster name to kubeconfig; peers cannot read it and it cannot be judged.` });
            continue;
        }
        for (const [cluster, kubeconfig] of Object.entries(output)) {
            // Only the offline plan knows secretness: @pulumi/policy hands stack policies secrets
            // unwrapped, and a stack policy has no remediation to fall back on.
            if (!isUnknown(kubeconfig) && stack.isSecretPath && !stack.isSecretPath([config.credentialsOutput, cluster])) {
                findings.push({
                    urn: stack.urn,
                    message: `${label} entry "${cluster}" is not a Pulumi secret, so the kubeconfig is stored in plain text in the state and shown by \`pulumi stack output\`; export it through pulumi.secret(...).`,
                });
            }
            for (const problem of readerKubeconfigProblems(kubeconfig, config)) {
                findings.push({
                    urn: stack.urn,
                    message: `${label} entry "${cluster}" ${problem}. Every reader of this stack's outputs gets it: export only the reader service-account token, never an admin credential.`,
                });
            }
        }
    }
    return findings;
}

export const definition: StackPolicyDefinition<FederationCredentialsReaderOnlyConfig> = {
    scope: "stack",
    name: "federation-credentials-reader-only",
    description:
        "Every entry of the stack output peers read credentials from (federationCredentials) is a reader-only kubeconfig: one user with only a bearer token, and that token, when known, is a JWT of the reader service account. Each entry is a Pulumi secret; @pulumi/policy 1.21 hands stack policies secrets unwrapped, so only the offline plan checks secretness.",
    enforcementLevel: "mandatory",
    config: {
        credentialsOutput: {
            schema: { type: "string", minLength: 1, description: "Name of the stack output that maps cluster names to peer kubeconfigs." },
            default: "federationCredentials",
        },
        readerServiceAccount: {
            schema: { type: "string", minLength: 1, description: "Service account whose token the exported kubeconfigs may carry." },
            default: "istio-reader-service-account",
        },
    },
    validate: federationCredentialFindings,
};

export const policy = toStackPolicy(definition);
