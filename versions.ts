/**
 * Every chart, image and tool version the program deploys, pinned in one place.
 *
 * Stack config may override each of these (see `config/` and `Pulumi.yaml`); nothing else in
 * the program names a version. The values are the latest stable releases at design time and the
 * versions whose chart values and CRD schemas the tests check against (`upstream-facts/`; after a
 * change here, refresh them with `npm run facts:refresh`, see the README).
 */
export const defaultVersions = {
    /** Istio `base`, `istiod` and `gateway` charts (and the proxy image they select). */
    istio: "1.30.3",
    /** SPIFFE hardened `spire` umbrella chart (the SPIRE and controller manager it runs: `spireChartImages`; CSI driver 0.2.7). */
    spireChart: "0.30.0",
    /** SPIFFE hardened `spire-crds` chart; installed before `spire` so CRs never race their CRDs. */
    spireCrdsChart: "0.6.0",
    /** Jetstack cert-manager chart. */
    certManager: "v1.21.1",
    /**
     * kind node image; matches the Kubernetes minor that Istio 1.30 supports. Pinned by digest, the
     * one kind v0.31.0 itself defaults to: a tag alone can be re-pushed, and an image built for
     * another kind release may not boot with this one.
     */
    kindNodeImage: "kindest/node:v1.35.0@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f",
} as const;

/**
 * What the pinned `spire` chart (`spireChart`) runs, which the program leaves to the chart: the image
 * tag of its spire-server and spire-agent subcharts (their appVersion; the umbrella chart's own
 * appVersion names an older SPIRE and is not what runs) and its `controllerManager.image.tag`. Not
 * stack config. The real-engine test bed builds exactly these to run them as host processes
 * (`e2e/build-toolchain.sh`); a test fails when `spireChart` moves and these do not.
 */
export const spireChartImages = {
    /** The `spire` chart version the tags below were read from. */
    chart: "0.30.0",
    /** spire-server and spire-agent. */
    spire: "1.15.2",
    /** spire-controller-manager. */
    controllerManager: "0.7.0",
} as const;

export type Versions = { -readonly [K in keyof typeof defaultVersions]: string };

/**
 * Chart repositories the program installs from unless config names mirrors (`chartRepositories`);
 * the policy pack allows exactly these by default.
 */
export const chartRepositories = {
    istio: "https://istio-release.storage.googleapis.com/charts",
    spiffe: "https://spiffe.github.io/helm-charts-hardened/",
    jetstack: "https://charts.jetstack.io",
} as const;

/** A source of charts: a key of `chartRepositories`. */
export type ChartSource = keyof typeof chartRepositories;

/** The repository of each chart source, after config. */
export type ChartRepositories = { -readonly [K in ChartSource]: string };

/** Sample workload images (Istio's own samples at the pinned Istio release). */
export const sampleImages = {
    helloworld: (version: string): string => `registry.istio.io/release/examples-helloworld-${version}:1.0`,
    curl: "docker.io/curlimages/curl:8.16.0",
    bookinfoTag: "1.20.3",
} as const;
