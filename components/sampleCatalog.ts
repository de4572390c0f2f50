/**
 * Names of the seed's sample workloads, shared by the `SampleApps` component (which declares
 * them) and `npm run verify` (which exercises them), so the two can never disagree. Plain data:
 * importing it pulls in neither Pulumi nor a Kubernetes client.
 */

/** Pod annotation selecting Istio's injection templates: the stock sidecar, then the SPIRE socket patch. */
export const spireTemplatesAnnotation = { "inject.istio.io/templates": "sidecar,spire" } as const;

/** Namespace label that the sidecar injector's namespace webhook selects. */
export const injectionLabel = { "istio-injection": "enabled" } as const;

/**
 * Pod label that the injector's object webhook selects in a namespace with no injection label:
 * used for Bookinfo in `default`, a namespace the program does not own and so does not label.
 */
export const podInjectionLabel = { "sidecar.istio.io/inject": "true" } as const;

/** The helloworld service: one Deployment per domain behind one Service name in every cluster. */
export const helloworld = {
    namespace: "helloworld",
    serviceAccount: "helloworld",
    service: "helloworld",
    port: 5000,
    path: "/hello",
    /** Container name in the upstream sample. */
    container: "helloworld",
    appLabel: "helloworld",
} as const;

/** The curl client the seed calls "sleep": where every request of the demo starts. */
export const sleepClient = {
    namespace: "sleep",
    serviceAccount: "sleep",
    deployment: "sleep",
    container: "sleep",
    appLabel: "sleep",
} as const;

/** The seed's ingress sample on the second domain's ingress gateway. */
export const helloworldIngress = {
    gateway: "helloworld-gateway",
    virtualService: "helloworld",
    /**
     * Selector of the ingress gateway pods: the gateway chart labels pods `istio: <name without
     * "istio-">`, so release `istio-ingressgateway` gives `istio: ingressgateway`.
     */
    gatewaySelector: { istio: "ingressgateway" },
    port: 80,
} as const;

/** Index (in config order) of the domain that hosts the ingress sample and Bookinfo, as in the seed. */
export const ingressDomainIndex = 1;

/** Index of the domain whose client runs the demo's requests, as in the seed (`cluster-1`). */
export const clientDomainIndex = 0;

/**
 * Version label of the helloworld Deployment in the domain at `domainIndex`: `v1` in the first,
 * `v2` in the second, `v3`... beyond, so that every domain serves a version of its own.
 */
export function helloworldVersion(domainIndex: number): string {
    if (!Number.isInteger(domainIndex) || domainIndex < 0) throw new Error(`bad domain index ${domainIndex}`);
    return `v${domainIndex + 1}`;
}

/**
 * Which upstream image serves a version. Istio publishes `examples-helloworld-v1` and `-v2`
 * only; a third or later domain reuses the v2 image, and the app reports the version from its
 * `SERVICE_VERSION` environment variable (which the Deployment sets), so replies still name the
 * domain's own version.
 */
export function helloworldImageVersion(version: string): "v1" | "v2" {
    return version === "v1" ? "v1" : "v2";
}

export function helloworldDeploymentName(domainIndex: number): string {
    return `helloworld-${helloworldVersion(domainIndex)}`;
}

/** SPIFFE ID SPIRE issues to a pod: `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`. */
export function workloadSpiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
    return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** One Bookinfo workload: Deployment `<app>-<version>` running as `bookinfo-<app>`. */
export interface BookinfoWorkload {
    app: string;
    version: string;
    /** Mounts the upstream sample gives the container (Liberty and the productpage write to them). */
    writableDirs: string[];
    /** Environment of the upstream sample. */
    env?: Record<string, string>;
}

export const bookinfo = {
    namespace: "default",
    port: 9080,
    apps: ["details", "ratings", "reviews", "productpage"],
    workloads: [
        { app: "details", version: "v1", writableDirs: [] },
        { app: "ratings", version: "v1", writableDirs: [] },
        ...["v1", "v2", "v3"].map((version) => ({
            app: "reviews",
            version,
            writableDirs: ["/tmp", "/opt/ibm/wlp/output"],
            env: { LOG_DIR: "/tmp/logs" },
        })),
        { app: "productpage", version: "v1", writableDirs: ["/tmp"] },
    ] as BookinfoWorkload[],
    serviceAccount: (app: string): string => `bookinfo-${app}`,
} as const;

/** A set of sample pods whose proxies must carry a SPIRE identity; what `verify` checks. */
export interface SampleIdentity {
    namespace: string;
    /** Kubernetes label selector of the pods. */
    labelSelector: string;
    serviceAccount: string;
}

/** Every sample workload that runs in the domain at `domainIndex`. */
export function sampleIdentities(domainIndex: number): SampleIdentity[] {
    const identities: SampleIdentity[] = [
        { namespace: helloworld.namespace, labelSelector: `app=${helloworld.appLabel}`, serviceAccount: helloworld.serviceAccount },
        { namespace: sleepClient.namespace, labelSelector: `app=${sleepClient.appLabel}`, serviceAccount: sleepClient.serviceAccount },
    ];
    if (domainIndex === ingressDomainIndex) {
        for (const app of bookinfo.apps) {
            identities.push({ namespace: bookinfo.namespace, labelSelector: `app=${app}`, serviceAccount: bookinfo.serviceAccount(app) });
        }
    }
    return identities;
}
