import { StackFinding, StackPolicyDefinition, toStackPolicy } from "../lib/definition";
import { PlainResource, rootStackType } from "../lib/resource";
import { at } from "../lib/values";

export interface AdminKubeconfigsNotExportedConfig {
    /** Outputs holding admin credentials. */
    adminOutputs: string[];
    /** The output whose presence means peers read this stack. */
    credentialsOutput: string;
}

/**
 * Reading a stack's outputs is all or nothing: a peer that may read the credentials output may
 * read every other output too, secrets included. So a stack that publishes credentials for peers
 * hands them its admin kubeconfigs as well, unless it leaves those out.
 */
export function adminKubeconfigFindings(resources: PlainResource[], config: AdminKubeconfigsNotExportedConfig): StackFinding[] {
    const findings: StackFinding[] = [];
    for (const stack of resources.filter((resource) => resource.type === rootStackType)) {
        if (at(stack.props, [config.credentialsOutput]) === undefined) continue;
        for (const name of config.adminOutputs) {
            if (at(stack.props, [name]) === undefined) continue;
            findings.push({
                urn: stack.urn,
                message:
                    `Stack output "${name}" (admin kubeconfigs) is exported beside "${config.credentialsOutput}": every peer allowed to read this stack's outputs can read it too, secret or not. ` +
                    "Set exportAdminKubeconfigs: false and give operators cluster access another way, or keep peers from reading this stack.",
            });
        }
    }
    return findings;
}

export const definition: StackPolicyDefinition<AdminKubeconfigsNotExportedConfig> = {
    scope: "stack",
    name: "admin-kubeconfigs-not-exported",
    description:
        "A stack that exports credentials for peer stacks (federationCredentials) does not also export admin kubeconfigs (kubeconfigs): a StackReference reads every output, so each peer would get admin access.",
    enforcementLevel: "advisory",
    config: {
        adminOutputs: {
            schema: { type: "array", items: { type: "string", minLength: 1 }, description: "Stack outputs that hold admin credentials." },
            default: ["kubeconfigs"],
        },
        credentialsOutput: {
            schema: { type: "string", minLength: 1, description: "The stack output peer stacks read credentials from." },
            default: "federationCredentials",
        },
    },
    validate: adminKubeconfigFindings,
};

export const policy = toStackPolicy(definition);
