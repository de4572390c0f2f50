import { chartRepositories } from "../../versions";
import { ResourcePolicyDefinition, toResourcePolicy } from "../lib/definition";
import { certManagerComponentType, helmChartV4Type, helmReleaseType } from "../lib/kubernetes";
import { PlainResource } from "../lib/resource";
import { at, isUnknown, stringAt, Unknown } from "../lib/values";

export interface HelmChartsConfig {
    allowedRepositories: string[];
}

/**
 * The repository `@pulumi/kubernetes-cert-manager` installs from when `helmOptions.repositoryOpts`
 * is unset (its provider's `DefaultRepoURL`, provider/pkg/provider/chart.go:35 at v0.2.0). This
 * program installs cert-manager through that component; its plugin creates the Release, which the
 * engine's analyzer sees on its own, but the offline plan (mocks) never does, so the component's
 * `helmOptions`, where it carries them, are judged as the Release they become.
 */
export const certManagerComponentDefaultRepository = "https://charts.jetstack.io";

/** What a resource installs from Helm: chart, version and repository as declared. */
export interface ChartReference {
    label: string;
    chart: string | Unknown | undefined;
    version: string | Unknown | undefined;
    repository: string | Unknown | undefined;
}

/**
 * The chart reference of a Release, a v4 Chart or a cert-manager component (its `helmOptions`);
 * undefined otherwise.
 */
export function chartReferenceOf(resource: PlainResource): ChartReference | undefined {
    if (resource.type === helmReleaseType || resource.type === helmChartV4Type) {
        const kind = resource.type === helmReleaseType ? "Helm release" : "Helm chart";
        const chart = stringAt(resource.props, ["chart"]);
        return {
            label: `${kind} "${resource.name}" (chart ${typeof chart === "string" ? chart : "?"})`,
            chart,
            version: stringAt(resource.props, ["version"]),
            repository: stringAt(resource.props, ["repositoryOpts", "repo"]),
        };
    }
    if (resource.type === certManagerComponentType) {
        const helmOptions = at(resource.props, ["helmOptions"]);
        // Under the real engine the analyzer sees the component as its plugin registered it, with
        // no inputs (helmbase's Construct registers it without properties), and judges the child
        // Release on its own; only the offline plan's mocks carry the program's helmOptions here.
        // Seen on the test bed's check-policy-pack: a component judged without them was flagged
        // as unpinned and from the jetstack repository while its Release was pinned and mirrored.
        if (helmOptions === undefined) return undefined;
        const repository = stringAt(helmOptions, ["repositoryOpts", "repo"]);
        return {
            label: `cert-manager component "${resource.name}" (helmOptions)`,
            chart: stringAt(helmOptions, ["chart"]) ?? "cert-manager",
            version: stringAt(helmOptions, ["version"]),
            repository: repository === undefined || repository === "" ? certManagerComponentDefaultRepository : repository,
        };
    }
    return undefined;
}

/** One exact SemVer 2 version, optionally with Helm's customary leading `v` (cert-manager's `v1.21.1`). */
const exactVersion =
    /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export function isExactVersion(version: string): boolean {
    return exactVersion.test(version);
}

/** Repository URLs compare without trailing slashes and with a lower-case scheme and host. */
export function normalizeRepository(url: string): string {
    const trimmed = url.trim().replace(/\/+$/, "");
    const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/]*)(.*)$/i.exec(trimmed);
    return match ? `${match[1].toLowerCase()}${match[2].toLowerCase()}${match[3]}` : trimmed;
}

/**
 * Where the chart comes from: the repository option, or for a chart given as a URL (`oci://…`,
 * `https://…/x.tgz`) the URL's parent. Undefined for a local path or a `repo/chart` alias, which
 * name no repository the policy could check.
 */
export function chartSource(reference: ChartReference): string | Unknown | undefined {
    if (isUnknown(reference.repository)) return reference.repository;
    if (typeof reference.repository === "string" && reference.repository !== "") return reference.repository;
    if (typeof reference.chart === "string" && /^[a-z][a-z0-9+.-]*:\/\//i.test(reference.chart)) {
        return reference.chart.slice(0, reference.chart.lastIndexOf("/"));
    }
    return undefined;
}

export function helmChartProblems(resource: PlainResource, config: HelmChartsConfig): string[] {
    const reference = chartReferenceOf(resource);
    if (!reference) return [];
    const problems: string[] = [];
    const { label, version } = reference;
    if (version === undefined || version === "") {
        problems.push(
            `${label} has no version, so Helm installs whatever is newest at deploy time; set an exact chart version (versions.ts pins them).`,
        );
    } else if (typeof version === "string" && !isExactVersion(version)) {
        problems.push(
            `${label} version "${version}" is not one exact release (ranges, wildcards and partial versions float); set an exact version such as "1.2.3".`,
        );
    }
    const allowed = config.allowedRepositories.map(normalizeRepository);
    const source = chartSource(reference);
    if (source === undefined) {
        problems.push(
            `${label} names no chart repository; set repositoryOpts.repo to one of the allowed repositories: ${config.allowedRepositories.join(", ")}.`,
        );
    } else if (!isUnknown(source) && !allowed.includes(normalizeRepository(source))) {
        problems.push(
            `${label} comes from "${source}", which is not an allowed chart repository; install from one of ${config.allowedRepositories.join(", ")} (or add the repository to this policy's allowedRepositories).`,
        );
    }
    return problems;
}

export const definition: ResourcePolicyDefinition<HelmChartsConfig> = {
    scope: "resource",
    name: "helm-charts-pinned",
    description:
        "Every Helm release (helm.v3 Release, helm.v4 Chart, and the helmOptions of the cert-manager component, which become its Release) installs one exact chart version from an allowed repository, so a deploy is repeatable and reviewable.",
    enforcementLevel: "mandatory",
    config: {
        allowedRepositories: {
            schema: { type: "array", items: { type: "string" }, description: "Chart repository URLs (or OCI prefixes) charts may come from." },
            default: Object.values(chartRepositories),
        },
    },
    validate: helmChartProblems,
};

export const policy = toResourcePolicy(definition);
