/**
 * What `@pulumi/kubernetes-cert-manager` 0.2.0 does with its inputs, as far as this program relies
 * on it. The component is remote: its provider plugin (Go, pulumi-kubernetes-cert-manager v0.2.0
 * on pulumi-go-helmbase v0.2.0) builds the Helm Release, so none of this runs in the program; the
 * program and its tests use these facts to send values the component passes on intact.
 */

/** Type token of the component (provider/pkg/provider/provider.go:26-29 at v0.2.0). */
export const certManagerComponentType = "kubernetes-cert-manager:index:CertManager";

/** Type token of the Helm Release the component creates as its only child. */
export const helmReleaseType = "kubernetes:helm.sh/v3:Release";

/** Name of the component's child Release: helmbase registers it as `<component name>-helm` (base.go:155). */
export function componentReleaseName(componentName: string): string {
    return `${componentName}-helm`;
}

/**
 * Every typed argument of the component that helmbase copies into the chart's values (the
 * `pulumi:"…"` tags of `CertManagerArgs`, provider/pkg/provider/chart.go:39-88 at v0.2.0;
 * `helmOptions` is removed again, base.go:204).
 *
 * helmbase decodes the whole args struct into `helmOptions.values` after the user's map
 * (base.go:186-202; go-viper/mapstructure v2.2.1, the version helmbase's go.mod pins, keeps the
 * existing map, mapstructure.go:871-876, and `decodeMapFromStruct` writes every exported field,
 * a nil one as nil, mapstructure.go:1084-1086), and the Go SDK drops nil map entries when it
 * sends the Release (sdk/go/pulumi/rpc.go:484 at v3.156.0, which the provider is built with). So a key of `helmOptions.values`
 * named like one of these never reaches the chart: the typed argument's value replaces it, and
 * an unset typed argument removes it. (Seen, too, by running the provider's own `CertManagerArgs`
 * through `InitDefaults`, `To` and `helm/v3.NewRelease` under the Go SDK's mocks: with
 * `startupapicheck` only in `helmOptions.values`, the Release got `values` without it.)
 */
export const certManagerTypedValueKeys: readonly string[] = [
    "global",
    "installCRDs",
    "replicaCount",
    "strategy",
    "featureGates",
    "image",
    "clusterResourceNamespace",
    "serviceAccount",
    "extraArgs",
    "extraEnv",
    "resources",
    "securityContext",
    "containerSecurityContext",
    "extraVolumes",
    "extraVolumeMounts",
    "deploymentAnnotations",
    "podAnnotations",
    "podLabels",
    "serviceLabels",
    "serviceAnnotations",
    "podDnsPolicy",
    "podDnsConfig",
    "nodeSelector",
    "ingressShim",
    "prometheus",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "affinity",
    "tolerations",
    "webhook",
    "cainjector",
    "startupapicheck",
];

/**
 * The Helm values the component's child Release receives from the component's inputs: the
 * `helmOptions.values` map, each typed key set to its typed argument or removed when that is
 * unset (see `certManagerTypedValueKeys`).
 */
export function valuesTheComponentReleases(inputs: {
    /** The component's inputs besides `helmOptions` (its typed arguments). */
    typed: Record<string, unknown>;
    /** `helmOptions.values` as sent. */
    helmValues: Record<string, unknown>;
}): Record<string, unknown> {
    const values: Record<string, unknown> = { ...inputs.helmValues };
    for (const key of certManagerTypedValueKeys) {
        const typed = inputs.typed[key];
        if (typed === undefined || typed === null) delete values[key];
        else values[key] = typed;
    }
    return values;
}

/** Keys of `helmOptions.values` that the component drops or replaces (they belong in its typed arguments). */
export function helmValuesTheComponentOverrides(helmValues: Record<string, unknown>): string[] {
    return Object.keys(helmValues).filter((key) => certManagerTypedValueKeys.includes(key));
}
