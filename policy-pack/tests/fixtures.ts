import { PlainResource } from "../lib/resource";
import { Path } from "../lib/values";

export const stack = "urn:pulumi:test::spire-istio-mesh";

export function providerUrn(cluster: string): string {
    return `${stack}::pulumi:providers:kubernetes::${cluster}`;
}

export const defaultProviderUrn = `${stack}::pulumi:providers:kubernetes::default_4_34_2`;

/** A plain resource record as policies see it. */
export function resource(type: string, name: string, props: Record<string, unknown>, extra: Partial<PlainResource> = {}): PlainResource {
    return { type, name, urn: `${stack}::${type}::${name}`, props, ...extra };
}

/** A Kubernetes object (typed resource or CustomResource, both register as kubernetes:<apiVersion>:<kind>). */
export function kubernetesObject(
    apiVersion: string,
    kind: string,
    name: string,
    body: Record<string, unknown>,
    cluster = "cluster-1",
): PlainResource {
    const module = apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`;
    return resource(`kubernetes:${module}:${kind}`, `${cluster}-${name}`, { apiVersion, kind, ...body }, { provider: providerUrn(cluster) });
}

export const REMOVE = Symbol("remove");

/** A deep copy of `value` with the value at `path` replaced (or removed). */
export function withValue<T>(value: T, path: Path, replacement: unknown): T {
    const copy = structuredClone(value) as Record<string | number, unknown>;
    let node = copy;
    for (const segment of path.slice(0, -1)) {
        if (node[segment] === undefined || node[segment] === null) node[segment] = typeof segment === "number" ? [] : {};
        node = node[segment] as Record<string | number, unknown>;
    }
    const last = path[path.length - 1];
    if (replacement === REMOVE) {
        if (Array.isArray(node) && typeof last === "number") node.splice(last, 1);
        else delete node[last];
    } else node[last] = replacement;
    return copy as T;
}

/** The resource with one prop changed: the single-field breakage each case is about. */
export function mutate(original: PlainResource, path: Path, replacement: unknown): PlainResource {
    return { ...original, props: withValue(original.props, path, replacement) };
}

/**
 * A SPIFFE bundle as SPIRE publishes it: a JWK set whose x509-svid key carries the root
 * certificate (x5c, base64 DER). The certificate bytes are not parsed by the policies.
 */
export function spiffeBundle(): string {
    return JSON.stringify({
        keys: [
            {
                use: "x509-svid",
                kty: "EC",
                crv: "P-256",
                x: "R6tEmXPncC9lya50UyqWa5cdtkFsDduz3hKuXIOlsVI",
                y: "krZMLeEuYYkER6b0ufLcf9KZLpCALr8-wA4rj_Wswo0",
                x5c: ["MIIBbzCCARagAwIBAgIMFGpAsvfiMM47Jea1MAoGCCqGSM49BAMC"],
            },
        ],
        spiffe_refresh_hint: 300,
    });
}

export interface Domain {
    cluster: string;
    trustDomain: string;
    address: string;
}

export const domains: Domain[] = [
    { cluster: "cluster-1", trustDomain: "foo.com", address: "203.0.113.10" },
    { cluster: "cluster-2", trustDomain: "bar.com", address: "203.0.113.11" },
];

/** The `spire` chart's Release for a domain: release `spire` in `spire-server`, so class `spire-server-spire`. */
export function spireRelease(domain: Domain): PlainResource {
    return resource(
        "kubernetes:helm.sh/v3:Release",
        `${domain.cluster}-spire`,
        {
            chart: "spire",
            name: "spire",
            namespace: "spire-server",
            version: "0.30.0",
            repositoryOpts: { repo: "https://spiffe.github.io/helm-charts-hardened/" },
            values: {
                global: { spire: { trustDomain: domain.trustDomain, clusterName: domain.cluster } },
                "spire-server": { federation: { enabled: true }, service: { type: "ClusterIP" } },
            },
        },
        { provider: providerUrn(domain.cluster) },
    );
}

export const spireClassName = "spire-server-spire";

export function federatedTrustDomain(domain: Domain, peer: Domain): PlainResource {
    return kubernetesObject(
        "spire.spiffe.io/v1alpha1",
        "ClusterFederatedTrustDomain",
        `federates-${peer.trustDomain}`,
        {
            metadata: { name: peer.trustDomain },
            spec: {
                className: spireClassName,
                trustDomain: peer.trustDomain,
                bundleEndpointURL: `https://${peer.address}:8443`,
                bundleEndpointProfile: { type: "https_spiffe", endpointSPIFFEID: `spiffe://${peer.trustDomain}/spire/server` },
                trustDomainBundle: spiffeBundle(),
            },
        },
        domain.cluster,
    );
}

export function clusterSpiffeId(domain: Domain, federatesWith: string[]): PlainResource {
    return kubernetesObject(
        "spire.spiffe.io/v1alpha1",
        "ClusterSPIFFEID",
        "mesh-workloads",
        {
            metadata: { name: "mesh-workloads" },
            spec: {
                className: spireClassName,
                spiffeIDTemplate: "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}",
                federatesWith,
            },
        },
        domain.cluster,
    );
}

export function bundleEndpointService(domain: Domain): PlainResource {
    return kubernetesObject(
        "v1",
        "Service",
        "spire-bundle-endpoint",
        {
            metadata: { name: "spire-bundle-endpoint", namespace: "spire-server", labels: { "app.kubernetes.io/component": "bundle-endpoint" } },
            spec: {
                type: "LoadBalancer",
                loadBalancerSourceRanges: ["198.51.100.0/24"],
                selector: { "app.kubernetes.io/name": "server", "app.kubernetes.io/instance": "spire" },
                ports: [{ name: "federation", port: 8443, targetPort: "federation", protocol: "TCP" }],
            },
        },
        domain.cluster,
    );
}

export function meshWidePeerAuthentication(domain: Domain): PlainResource {
    return kubernetesObject(
        "security.istio.io/v1",
        "PeerAuthentication",
        "mesh-mtls",
        { metadata: { name: "default", namespace: "istio-system" }, spec: { mtls: { mode: "STRICT" } } },
        domain.cluster,
    );
}

export function istiodRelease(domain: Domain, peers: Domain[]): PlainResource {
    return resource(
        "kubernetes:helm.sh/v3:Release",
        `${domain.cluster}-istiod`,
        {
            chart: "istiod",
            name: "istiod",
            namespace: "istio-system",
            version: "1.30.3",
            repositoryOpts: { repo: "https://istio-release.storage.googleapis.com/charts" },
            values: {
                global: { enableReaderRBAC: false },
                meshConfig: { trustDomain: domain.trustDomain, caCertificates: peers.map((peer) => ({ trustDomains: [peer.trustDomain] })) },
            },
        },
        { provider: providerUrn(domain.cluster) },
    );
}

/** A compliant two-domain mesh: what every stack policy must accept. */
export function meshStack(members: Domain[] = domains): PlainResource[] {
    return members.flatMap((domain) => {
        const peers = members.filter((other) => other !== domain);
        return [
            resource("pulumi:providers:kubernetes", domain.cluster, { kubeconfig: "apiVersion: v1\nkind: Config\nclusters: []\n" }),
            spireRelease(domain),
            ...peers.map((peer) => federatedTrustDomain(domain, peer)),
            clusterSpiffeId(
                domain,
                peers.map((peer) => peer.trustDomain),
            ),
            bundleEndpointService(domain),
            meshWidePeerAuthentication(domain),
            istiodRelease(domain, peers),
        ];
    });
}

/** Replaces the resource with the same URN in a list. */
export function replaced(resources: PlainResource[], replacement: PlainResource): PlainResource[] {
    if (!resources.some((candidate) => candidate.urn === replacement.urn)) throw new Error(`no ${replacement.urn} to replace`);
    return resources.map((candidate) => (candidate.urn === replacement.urn ? replacement : candidate));
}

export function without(resources: PlainResource[], urn: string): PlainResource[] {
    if (!resources.some((candidate) => candidate.urn === urn)) throw new Error(`no ${urn} to remove`);
    return resources.filter((candidate) => candidate.urn !== urn);
}
