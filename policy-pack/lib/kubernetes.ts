import { PlainResource } from "./resource";
import { at, entriesAt, isRecord, stringAt } from "./values";

export const helmReleaseType = "kubernetes:helm.sh/v3:Release";
export const helmChartV4Type = "kubernetes:helm.sh/v4:Chart";
export const certManagerComponentType = "kubernetes-cert-manager:index:CertManager";

/**
 * Kubernetes types that are components running in the program itself: they register no provider
 * of their own, their children carry it.
 */
export const localKubernetesComponentTypes: ReadonlySet<string> = new Set([
    "kubernetes:helm.sh/v2:Chart",
    "kubernetes:helm.sh/v3:Chart",
    "kubernetes:yaml:ConfigFile",
    "kubernetes:yaml:ConfigGroup",
    "kubernetes:kustomize:Directory",
]);

/** A resource the Kubernetes provider manages (objects, CRs, Helm releases), not a provider itself. */
export function isKubernetesResource(resource: PlainResource): boolean {
    return resource.type.startsWith("kubernetes:") && !localKubernetesComponentTypes.has(resource.type);
}

/**
 * API group and kind of a Kubernetes object resource, from its type token
 * (`kubernetes:<group>/<version>:<Kind>`, core group as `core/v1`; a `CustomResource` registers
 * as `kubernetes:<apiVersion>:<kind>` too) or, failing that, from its apiVersion/kind inputs.
 */
export function groupKindOf(resource: PlainResource): { group: string; kind: string } | undefined {
    if (!resource.type.startsWith("kubernetes:")) return undefined;
    const [, module, kind] = resource.type.split(":");
    if (module && kind) {
        const slash = module.lastIndexOf("/");
        const group = slash < 0 ? "" : module.slice(0, slash);
        return { group: group === "core" ? "" : group, kind };
    }
    const apiVersion = stringAt(resource.props, ["apiVersion"]);
    const propsKind = stringAt(resource.props, ["kind"]);
    if (typeof apiVersion !== "string" || typeof propsKind !== "string") return undefined;
    const slash = apiVersion.lastIndexOf("/");
    return { group: slash < 0 ? "" : apiVersion.slice(0, slash), kind: propsKind };
}

/** Whether the resource is a Kubernetes object of that group (any version) and kind. */
export function isKind(resource: PlainResource, group: string, kind: string): boolean {
    const found = groupKindOf(resource);
    return found !== undefined && found.group === group && found.kind === kind;
}

/** ` in cluster "<provider name>"` when the resource's cluster is known, for messages. */
function inClusterSuffix(resource: PlainResource): string {
    return resource.provider ? ` in ${clusterLabel(resource.provider)}` : "";
}

/**
 * `kind "metadata.name" in cluster "c"` (the Pulumi name when the object's name is not known)
 * for messages.
 */
export function objectLabel(resource: PlainResource): string {
    const kind = groupKindOf(resource)?.kind ?? resource.type;
    const name = stringAt(resource.props, ["metadata", "name"]);
    return `${kind} "${typeof name === "string" ? name : resource.name}"${inClusterSuffix(resource)}`;
}

/** Default providers are named `default` or `default_<version>` (URN `…::pulumi:providers:kubernetes::default_4_34_2`). */
export function isDefaultProvider(providerUrn: string): boolean {
    return /::pulumi:providers:[^:]+::default(_[^:]*)?$/.test(providerUrn);
}

/** The cluster a Kubernetes resource lands in: its provider's URN. */
export function clusterOf(resource: PlainResource): string | undefined {
    return resource.provider;
}

/** A readable cluster name for messages: the provider resource's name. */
export function clusterLabel(providerUrn: string): string {
    const name = providerUrn.split("::").pop() ?? providerUrn;
    return `cluster "${name}"`;
}

/** The chart a Helm release installs, as the Release names it (e.g. `spire`, `istiod`). */
export function releaseChart(resource: PlainResource): string | undefined {
    if (resource.type !== helmReleaseType) return undefined;
    const chart = stringAt(resource.props, ["chart"]);
    if (typeof chart !== "string") return undefined;
    // `oci://…/spire` or a repo alias `spiffe/spire` still names the chart last.
    return chart.split("/").pop();
}

export function isReleaseOf(resource: PlainResource, chart: string): boolean {
    return releaseChart(resource) === chart;
}

/** `Helm release "spire" (chart spire) in cluster "c"` for messages. */
export function releaseLabel(resource: PlainResource): string {
    const releaseName = stringAt(resource.props, ["name"]);
    return `Helm release "${typeof releaseName === "string" ? releaseName : resource.name}" (chart ${releaseChart(resource) ?? "?"})${inClusterSuffix(resource)}`;
}

/** The Helm values of a Release; an empty object when it has none. */
export function releaseValues(resource: PlainResource): Record<string, unknown> {
    const values = at(resource.props, ["values"]);
    return isRecord(values) ? values : {};
}

/** Labels of a Kubernetes object's metadata. */
export function labelsOf(resource: PlainResource): Record<string, unknown> {
    return Object.fromEntries(entriesAt(resource.props, ["metadata", "labels"]));
}
