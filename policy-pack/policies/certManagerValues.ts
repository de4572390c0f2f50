import { certManagerTypedValueKeys, valuesTheComponentReleases } from "../../lib/certManagerComponent";
import { ResourcePolicyDefinition, toResourcePolicy } from "../lib/definition";
import { certManagerComponentType, isReleaseOf, releaseLabel, releaseValues } from "../lib/kubernetes";
import { PlainResource } from "../lib/resource";
import { at, isRecord, isUnknown } from "../lib/values";

/**
 * The values the Jetstack cert-manager chart receives from a resource, with a label for messages:
 * a Release of chart `cert-manager`, or the `@pulumi/kubernetes-cert-manager` component (its
 * `helmOptions.values` with its typed arguments merged over them, as its plugin does). Undefined
 * for anything else, or when a preview does not know the values yet.
 */
function certManagerChartValues(resource: PlainResource): { label: string; values: Record<string, unknown> } | undefined {
    if (isReleaseOf(resource, "cert-manager")) return { label: releaseLabel(resource), values: releaseValues(resource) };
    if (resource.type !== certManagerComponentType) return undefined;
    const { helmOptions, ...typed } = resource.props;
    const helmValues = at(helmOptions, ["values"]);
    if (isUnknown(helmValues)) return undefined;
    return {
        label: `cert-manager component "${resource.name}"`,
        values: valuesTheComponentReleases({ typed, helmValues: isRecord(helmValues) ? helmValues : {} }),
    };
}

/**
 * cert-manager's chart values as this program relies on them. The component drops every key of
 * `helmOptions.values` it has a typed argument for (lib/certManagerComponent.ts), so such a key
 * is a setting that silently never reaches the chart. And the chart's startupapicheck hook must
 * stay on: it is what makes the install wait until the webhook answers, which the Issuers and
 * Certificates declared after it rely on.
 */
export function certManagerValuesProblems(resource: PlainResource): string[] {
    const chart = certManagerChartValues(resource);
    if (!chart) return [];
    const problems: string[] = [];
    const helmValues = resource.type === certManagerComponentType ? at(resource.props, ["helmOptions", "values"]) : undefined;
    for (const key of isRecord(helmValues) ? Object.keys(helmValues) : []) {
        if (certManagerTypedValueKeys.includes(key)) {
            problems.push(
                `${chart.label} sets helmOptions.values.${key}, which the component never passes to the chart (its typed argument ${key} replaces it, and removes it when unset); set the typed argument ${key} instead.`,
            );
        }
    }
    const startupApiCheck = at(chart.values, ["startupapicheck", "enabled"]);
    if (startupApiCheck === false) {
        problems.push(
            `${chart.label} disables startupapicheck, so the install completes before cert-manager's webhook answers and the Issuers and Certificates that wait for it can be refused; leave startupapicheck.enabled true.`,
        );
    }
    return problems;
}

export const definition: ResourcePolicyDefinition = {
    scope: "resource",
    name: "cert-manager-values",
    description:
        "cert-manager's chart values reach the chart: a cert-manager component sets no helmOptions.values key it has a typed argument for (the component drops those), and the chart's startupapicheck stays enabled, so cert-manager resources wait for a webhook that answers.",
    enforcementLevel: "mandatory",
    config: {},
    validate: (resource) => certManagerValuesProblems(resource),
};

export const policy = toResourcePolicy(definition);
