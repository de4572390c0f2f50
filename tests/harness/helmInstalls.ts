import { certManagerComponentType, helmReleaseType, valuesTheComponentReleases } from "../../lib/certManagerComponent";
import type { DeclaredResource } from "./program";

/**
 * One Helm release the program installs, whichever way it declares it: a `helm.v3.Release`, or
 * the cert-manager component, whose plugin creates the Release from `helmOptions` and its typed
 * arguments (the mocks never run that plugin, so this reads the component's inputs).
 */
export interface HelmInstall {
    /** The declaring resource. */
    resource: DeclaredResource;
    chart: string;
    /** Helm release name. */
    releaseName: string;
    version: string;
    namespace: string;
    repositoryOpts: Record<string, unknown>;
    /** The values the chart receives (for the component: after its typed arguments are merged in). */
    values: Record<string, unknown>;
    timeout: number | undefined;
    postrender: string | undefined;
    /** URN of the Kubernetes provider the Release goes through. */
    provider: string;
}

/** Every Helm release a run declares: Releases and cert-manager components. */
export function helmInstallsOf(resources: DeclaredResource[]): HelmInstall[] {
    const installs: HelmInstall[] = [];
    for (const resource of resources) {
        if (resource.type === helmReleaseType) {
            const { inputs } = resource;
            installs.push({
                resource,
                chart: inputs.chart,
                releaseName: inputs.name,
                version: inputs.version,
                namespace: inputs.namespace,
                repositoryOpts: inputs.repositoryOpts,
                values: inputs.values ?? {},
                timeout: inputs.timeout,
                postrender: inputs.postrender,
                provider: resource.provider,
            });
        } else if (resource.type === certManagerComponentType) {
            const { helmOptions, ...typed } = resource.inputs;
            installs.push({
                resource,
                // The plugin's default chart (DefaultChartName, chart.go:34) when helmOptions names none.
                chart: helmOptions.chart ?? "cert-manager",
                releaseName: helmOptions.name,
                version: helmOptions.version,
                namespace: helmOptions.namespace,
                repositoryOpts: helmOptions.repositoryOpts,
                values: valuesTheComponentReleases({ typed, helmValues: helmOptions.values ?? {} }),
                timeout: helmOptions.timeout,
                postrender: helmOptions.postrender,
                provider: resource.providers.kubernetes ?? "",
            });
        }
    }
    return installs;
}
