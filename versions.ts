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
    /** SPIFFE hardened `spire` umbrella chart (SPIRE 1.15.2, controller manager 0.7.0, CSI driver 0.2.7). */
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
