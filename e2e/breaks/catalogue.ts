/**
 * A deliberate bug and the phase that must catch it. `npm run e2e:local -- --break NAME` runs the
 * single-stack scenario on a patched copy of the program (the repository is not touched) and
 * passes only if the first phase to fail is `phase`, with an error matching `error`.
 */
export interface Break {
    what: string;
    /** A file of the program (or `Pulumi.yaml`), relative to the repository. */
    file: string;
    find: string;
    replace: string;
    phase: string;
    error: RegExp;
    /** The break shows only when the third domain joins: the run goes on to `add-third-domain`. */
    needsThirdDomain?: boolean;
    /** Caught before the live phases, which run all the same to record the processes' own errors (other failed phases). */
    liveToo?: boolean;
}

export const breaks: Record<string, Break> = {
    "chart-value-type": {
        what: "cert-manager's crds.enabled given as the string \"true\" (the chart's schema wants a boolean)",
        file: "components/certManagerRootCA.ts",
        find: "crds: { enabled: true, keep: args.keepCrdsOnDestroy }",
        replace: 'crds: { enabled: "true", keep: args.keepCrdsOnDestroy }',
        phase: "up",
        error: /crds\.enabled|schema/i,
    },
    "chart-value-misspelt": {
        what: "SPIRE's global.spire.trustDomain misspelt trustdomain (no schema: Helm keeps the chart default)",
        file: "components/spireFederatedDomain.ts",
        find: "                trustDomain: args.trustDomain,\n                clusterName: args.clusterName,",
        replace: "                trustdomain: args.trustDomain,\n                clusterName: args.clusterName,",
        phase: "check-rendered-config",
        error: /trust domain .*want foo\.com/,
    },
    "crd-order": {
        what: "the cert-manager Issuers' dependsOn on the cert-manager release removed",
        file: "components/certManagerRootCA.ts",
        find: "            inCluster(args.cluster, this, { dependsOn: [this.certManager] }),\n        );\n        return { secret, issuer };",
        replace: "            inCluster(args.cluster, this),\n        );\n        return { secret, issuer };",
        phase: "check-crd-order",
        error: /Issuer\) does not depend on .*cert-manager/,
    },
    "third-domain-replaces": {
        what: "the ClusterSPIFFEID named after the number of peers, so that a new peer renames (replaces) it in every cluster",
        file: "components/spireFederatedDomain.ts",
        find: 'metadata: { name: "mesh-workloads" },',
        replace: "metadata: { name: `mesh-workloads-${args.peers.length}` },",
        phase: "add-third-domain",
        error: /replace.*mesh-workloads/,
        needsThirdDomain: true,
    },
    "config-key-rejected": {
        what: "Pulumi.yaml declares istioVersion without its default (issue 9's first `pulumi up`)",
        file: "Pulumi.yaml",
        find: '    description: "Istio chart version; empty: the pin in versions.ts."\n    default: ""\n',
        replace: '    description: "Istio chart version; empty: the pin in versions.ts."\n',
        phase: "preview",
        error: /missing configuration value/i,
    },
    "federation-endpoint-id": {
        what: "the ClusterFederatedTrustDomain for bar.com expects a wrong endpointSPIFFEID (spiffe://bar.com/spire/agent) at bar.com's bundle endpoint",
        file: "components/spireFederatedDomain.ts",
        find: 'bundleEndpointProfile: { type: "https_spiffe", endpointSPIFFEID: spireServerSpiffeId(peer.trustDomain) },',
        replace: 'bundleEndpointProfile: { type: "https_spiffe", endpointSPIFFEID: peer.trustDomain === "bar.com" ? "spiffe://bar.com/spire/agent" : spireServerSpiffeId(peer.trustDomain) },',
        phase: "live-check-federation",
        // SPIRE's bundle client (go-spiffe's ID authorizer) refusing bar.com's server certificate.
        error: /unexpected ID \\?"spiffe:\/\/bar\.com\/spire\/server/,
    },
    "bundle-endpoint-port": {
        what: "every domain exports its bundle endpoint URL with the node port plus one",
        file: "components/spireBundleEndpoint.ts",
        find: "this.url = pulumi.all([nodeAddress, nodePort]).apply(([address, port]) => httpsUrl(address, port));",
        replace: "this.url = pulumi.all([nodeAddress, nodePort]).apply(([address, port]) => httpsUrl(address, port + 1));",
        phase: "live-check-federation",
        // The peer server's own fetch error: nothing listens on the wrong port.
        error: /connection refused/,
    },
    "server-trust-domain": {
        what: "bar.com's SPIRE deployed with trust domain bar.org (global.spire.trustDomain of one domain)",
        file: "components/spireFederatedDomain.ts",
        find: "                trustDomain: args.trustDomain,\n                clusterName: args.clusterName,",
        replace: '                trustDomain: args.trustDomain === "bar.com" ? "bar.org" : args.trustDomain,\n                clusterName: args.clusterName,',
        // The rendered-config check sees it before any process runs; the live phases fail after it
        // with the processes' own errors (listed as other failed phases in the verdict).
        phase: "check-rendered-config",
        error: /server\.conf has trust domain bar\.org, want bar\.com/,
        liveToo: true,
    },
    "reader-no-endpointslices": {
        what: "the peer reader role without endpointslices (a remote istiod then cannot list the peer's endpoints)",
        file: "components/peerReaders.ts",
        find: '    { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: read },\n',
        replace: "",
        phase: "istiod-peers-synced",
        error: /peer cluster-2 is timeout[\s\S]*istiod refused endpointslices\.discovery\.k8s\.io for cluster-2/,
    },
};

/** The program's files and folders, relative to the repository: what a `--break` run copies. */
export const programEntries = ["index.ts", "mesh.ts", "versions.ts", "Pulumi.yaml", "components", "config", "lib"];

/** The broken text of `file`; refuses a break whose text does not occur exactly once (a stale break). */
export function applyBreak(name: string, broken: Break, text: string): string {
    const found = text.split(broken.find).length - 1;
    if (found !== 1) throw new Error(`--break ${name}: the text to break occurs ${found} times in ${broken.file}, want once (update e2e/breaks/catalogue.ts)`);
    return text.replace(broken.find, broken.replace);
}
