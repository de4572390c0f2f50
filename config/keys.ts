/**
 * The project's config keys, their types, defaults and meaning: the single list that `Pulumi.yaml`
 * mirrors (a test keeps the two equal). Pulumi applies `Pulumi.yaml` defaults only under the CLI,
 * so the program applies the same defaults itself.
 */
export interface ConfigKeySpec {
    type: "string" | "integer" | "boolean" | "array" | "object";
    /** Element type of an array key; the CLI refuses an array declaration without it. */
    items?: { type: "string" | "object" };
    description: string;
    /**
     * The CLI treats a declared key without a default as required and refuses every command on a
     * stack that does not set it, so only keys a stack must choose (`platform`, `domains`) omit it.
     * An empty string means "computed by the program": per platform, or from `versions.ts`.
     */
    default?: string | number | boolean | string[] | never[] | Record<string, never>;
}

export const projectName = "spire-istio-mesh";

export const configKeys = {
    meshId: { type: "string", description: "Istio mesh ID shared by every cluster.", default: "multi-mesh" },
    platform: { type: "string", description: "Where clusters run: gke, kind or existing (required)." },
    domains: {
        type: "array",
        items: { type: "object" },
        description: "The trust domains, one cluster each (required); see the comment above for their fields.",
    },
    exposure: {
        type: "string",
        description: "LoadBalancer or NodePort; empty: NodePort on kind, LoadBalancer elsewhere.",
        default: "",
    },
    rootCaValidity: {
        type: "string",
        description: "Lifetime of each generated root CA, as a duration in whole hours (e.g. 87600h).",
        default: "87600h",
    },
    istiodCertDuration: {
        type: "string",
        description: "Lifetime of istiod's cacerts certificate, at most 2880h (the seed uses 1440h, then rotates to 720h).",
        default: "1440h",
    },
    istiodCertRenewBefore: {
        type: "string",
        description: "How long before expiry cert-manager renews istiod's cacerts certificate.",
        default: "360h",
    },
    bundleEndpointNodePort: {
        type: "integer",
        description: "Node port of each SPIRE bundle endpoint in NodePort exposure.",
        default: 30843,
    },
    eastWestNodePort: {
        type: "integer",
        description: "Node port of each east-west gateway's port 15443 in NodePort exposure.",
        default: 31443,
    },
    ingressHttpNodePort: {
        type: "integer",
        description: "Node port of each ingress gateway's port 80 in NodePort exposure.",
        default: 30080,
    },
    gkeDeletionProtection: {
        type: "boolean",
        description: "Protect GKE clusters from deletion; set false before pulumi destroy.",
        default: true,
    },
    gkeReleaseChannel: {
        type: "string",
        description: "GKE release channel: RAPID, REGULAR or STABLE.",
        default: "REGULAR",
    },
    loadBalancerSourceRanges: {
        type: "array",
        items: { type: "string" },
        description: "CIDRs allowed to reach the ingress gateway's LoadBalancer (your clients); empty allows everyone.",
        default: [],
    },
    peerSourceRanges: {
        type: "array",
        items: { type: "string" },
        description:
            "CIDRs allowed to reach the peer-facing LoadBalancers (east-west gateway, SPIRE bundle endpoint); must include every peer's egress addresses. Empty allows everyone.",
        default: [],
    },
    chartRepositories: {
        type: "object",
        description:
            "Chart repository URL per source (istio, spiffe, jetstack) instead of the public one, e.g. an air-gapped mirror holding the same charts and versions; https:// only (see allowPlaintextChartRepositories), no credentials in the URL, no OCI; unset sources use versions.ts.",
        default: {},
    },
    allowPlaintextChartRepositories: {
        type: "boolean",
        description:
            "Accept http:// chart repositories in chartRepositories, whose charts anyone on the network path can swap; only for a mirror on a trusted network such as loopback.",
        default: false,
    },
    chartRepositoryCredentials: {
        type: "object",
        description:
            "Basic-auth credentials per mirrored chart source: {<source>: {username, passwordConfigKey}}, the password in the named secret config key (pulumi config set --secret); https mirrors only.",
        default: {},
    },
    gkeMasterAuthorizedNetworks: {
        type: "array",
        items: { type: "string" },
        description:
            "CIDRs allowed to reach each GKE cluster's API server: the operator's addresses and every peer cluster's egress addresses (peers' istiod watch this API server). Empty leaves it open to every address.",
        default: [],
    },
    peerStacks: {
        type: "array",
        items: { type: "object" },
        description:
            "Trust domains deployed by other stacks that this stack federates with: a list of {stack: org/project/stack, trustDomains: [...]}; see docs/cross-stack.md.",
        default: [],
    },
    exportAdminKubeconfigs: {
        type: "string",
        description:
            "Export each cluster's admin kubeconfig (secret) as the stack output kubeconfigs, for npm run verify: true or false; empty: true without peerStacks, false with them, since a peer's stack reference can read every output.",
        default: "",
    },
    samplesEnabled: {
        type: "boolean",
        description: "Deploy the seed's sample workloads (helloworld, curl, bookinfo).",
        default: true,
    },
    istioVersion: { type: "string", description: "Istio chart version; empty: the pin in versions.ts.", default: "" },
    spireChartVersion: {
        type: "string",
        description: "SPIRE spire chart version; empty: the pin in versions.ts.",
        default: "",
    },
    spireCrdsChartVersion: {
        type: "string",
        description: "SPIRE spire-crds chart version; empty: the pin in versions.ts.",
        default: "",
    },
    certManagerVersion: {
        type: "string",
        description: "cert-manager chart version; empty: the pin in versions.ts.",
        default: "",
    },
    kindNodeImage: { type: "string", description: "kind node image; empty: the pin in versions.ts.", default: "" },
} as const satisfies Record<string, ConfigKeySpec>;

export type ConfigKey = keyof typeof configKeys;
