/**
 * check-helm-releases: the releases Helm recorded as deployed (its `owner=helm` Secrets, decoded
 * here) run the chart versions versions.ts pins. The program's own chart versions are not read,
 * on purpose: this compares what Helm installed with the one place versions are pinned.
 */
import { gunzipSync } from "node:zlib";
import { Domain } from "../clusters/domains";
import { kubectlJson, List, Meta } from "../runner/kubectl";
import { check } from "../runner/phases";
import { defaultVersions } from "../../versions";

/** A Helm release as its storage Secret holds it. */
interface HelmRelease {
    name: string;
    namespace: string;
    version: number;
    info: { status: string };
    chart: { metadata: { name: string; version: string } };
}

/**
 * Decodes a release Secret: base64 (the API's) of base64 (Helm's) of gzip of JSON.
 * @param secret a Secret labelled `owner=helm`
 */
export function decodeRelease(secret: { data: { release: string } }): HelmRelease {
    const helmBase64 = Buffer.from(secret.data.release, "base64").toString();
    return JSON.parse(gunzipSync(Buffer.from(helmBase64, "base64")).toString()) as HelmRelease;
}

/** Chart name -> the version versions.ts pins. */
const pinnedCharts: Record<string, string> = {
    base: defaultVersions.istio,
    istiod: defaultVersions.istio,
    gateway: defaultVersions.istio,
    spire: defaultVersions.spireChart,
    "spire-crds": defaultVersions.spireCrdsChart,
    "cert-manager": defaultVersions.certManager,
};

/**
 * Every pinned chart has a deployed release on each cluster, at its pin.
 * @param domains the clusters to read
 * @param evidence the phase's: every release with its chart and version
 */
export async function checkHelmReleases(domains: Domain[], evidence: string[]): Promise<void> {
    for (const domain of domains) {
        const secrets = await kubectlJson<List<Meta & { data: { release: string } }>>(domain, "get", "secrets", "--all-namespaces", "-l", "owner=helm,status=deployed");
        const releases = secrets.items.map(decodeRelease);
        const charts = new Set(releases.map((release) => release.chart.metadata.name));
        const absent = Object.keys(pinnedCharts).filter((chart) => !charts.has(chart));
        check(absent.length === 0, `${domain.name}: no deployed release of ${absent.join(", ")}`);
        for (const release of releases) {
            const want = pinnedCharts[release.chart.metadata.name];
            check(want === undefined || release.chart.metadata.version === want, `${domain.name}: ${release.namespace}/${release.name} runs ${release.chart.metadata.name} ${release.chart.metadata.version}, versions.ts pins ${want}`);
        }
        evidence.push(`${domain.name}: ${releases.map((r) => `${r.namespace}/${r.name}=${r.chart.metadata.name}@${r.chart.metadata.version}`).join(" ")}`);
    }
}
