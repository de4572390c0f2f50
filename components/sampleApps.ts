import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { sampleImages } from "../versions";
import { inCluster, MeshCluster } from "./meshCluster";
import {
    bookinfo,
    BookinfoWorkload,
    helloworld,
    helloworldDeploymentName,
    helloworldImageVersion,
    helloworldIngress,
    helloworldVersion,
    ingressDomainIndex,
    injectionLabel,
    podInjectionLabel,
    sleepClient,
    spireTemplatesAnnotation,
    workloadSpiffeId,
} from "./sampleCatalog";

type DeploymentSpec = k8s.types.input.apps.v1.DeploymentSpec;
type ServiceSpec = k8s.types.input.core.v1.ServiceSpec;

/** Registry path of Istio's Bookinfo images; the tag is pinned in versions.ts. */
const bookinfoImage = (app: string, version: string): string =>
    `registry.istio.io/release/examples-bookinfo-${app}-${version}:${sampleImages.bookinfoTag}`;

/** Metadata of a namespace whose pods all get sidecars. */
export function injectedNamespaceMetadata(name: string): k8s.types.input.meta.v1.ObjectMeta {
    return { name, labels: { ...injectionLabel } };
}

/** The helloworld Service, identical in every cluster: Istio merges same-named Services across clusters. */
export function helloworldServiceSpec(): ServiceSpec {
    return {
        ports: [{ name: "http", port: helloworld.port }],
        selector: { app: helloworld.appLabel },
    };
}

type PodSpec = k8s.types.input.core.v1.PodSpec;

/**
 * One replica of a sample pod whose proxy takes its identity from SPIRE (the `spire` injection
 * template); `extraPodLabels` go on the pods only, never into the selector.
 */
function sampleDeploymentSpec(labels: Record<string, string>, podSpec: PodSpec, extraPodLabels: Record<string, string> = {}): DeploymentSpec {
    return {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
            metadata: { labels: { ...labels, ...extraPodLabels }, annotations: { ...spireTemplatesAnnotation } },
            spec: podSpec,
        },
    };
}

/**
 * The helloworld Deployment of the domain at `domainIndex`. It runs as its own service account
 * so that its SPIFFE ID names it (the upstream sample runs as `default`), and it sets
 * `SERVICE_VERSION` so replies name the domain's version even where the image is reused.
 */
export function helloworldDeploymentSpec(domainIndex: number): DeploymentSpec {
    const version = helloworldVersion(domainIndex);
    return sampleDeploymentSpec(
        { app: helloworld.appLabel, version },
        {
            serviceAccountName: helloworld.serviceAccount,
            containers: [
                {
                    name: helloworld.container,
                    image: sampleImages.helloworld(helloworldImageVersion(version)),
                    imagePullPolicy: "IfNotPresent",
                    env: [{ name: "SERVICE_VERSION", value: version }],
                    ports: [{ containerPort: helloworld.port }],
                    resources: { requests: { cpu: "100m" } },
                },
            ],
        },
    );
}

/** The curl client ("sleep" in the seed): idles so that `verify` can exec requests from it. */
export function sleepDeploymentSpec(): DeploymentSpec {
    return sampleDeploymentSpec(
        { app: sleepClient.appLabel },
        {
            serviceAccountName: sleepClient.serviceAccount,
            // Nothing to drain: the client holds no state.
            terminationGracePeriodSeconds: 0,
            containers: [
                {
                    name: sleepClient.container,
                    image: sampleImages.curl,
                    imagePullPolicy: "IfNotPresent",
                    command: ["/bin/sleep", "infinity"],
                },
            ],
        },
    );
}

export function bookinfoServiceSpec(app: string): ServiceSpec {
    return { ports: [{ name: "http", port: bookinfo.port }], selector: { app } };
}

/**
 * One Bookinfo Deployment. `default` carries no injection label (the program does not own that
 * namespace), so the pods ask for a sidecar themselves with `sidecar.istio.io/inject`.
 */
export function bookinfoDeploymentSpec(workload: BookinfoWorkload): DeploymentSpec {
    const labels = { app: workload.app, version: workload.version };
    const volumeName = (index: number): string => `writable-${index}`;
    const hasVolumes = workload.writableDirs.length > 0;
    return sampleDeploymentSpec(
        labels,
        {
            serviceAccountName: bookinfo.serviceAccount(workload.app),
            containers: [
                {
                    name: workload.app,
                    image: bookinfoImage(workload.app, workload.version),
                    imagePullPolicy: "IfNotPresent",
                    ports: [{ containerPort: bookinfo.port }],
                    ...(workload.env ? { env: Object.entries(workload.env).map(([name, value]) => ({ name, value })) } : {}),
                    ...(hasVolumes
                        ? { volumeMounts: workload.writableDirs.map((mountPath, index) => ({ name: volumeName(index), mountPath })) }
                        : {}),
                },
            ],
            ...(hasVolumes ? { volumes: workload.writableDirs.map((_, index) => ({ name: volumeName(index), emptyDir: {} })) } : {}),
        },
        podInjectionLabel,
    );
}

/**
 * The known fallback for cross-domain SAN matching (istio/istio#55288): clients call helloworld
 * over Istio mTLS and accept the server's SPIFFE ID from any of the mesh's trust domains, since
 * the same Service is served from every domain.
 */
export function helloworldDestinationRuleSpec(trustDomains: string[]): Record<string, unknown> {
    return {
        host: `${helloworld.service}.${helloworld.namespace}.svc.cluster.local`,
        trafficPolicy: {
            tls: {
                mode: "ISTIO_MUTUAL",
                subjectAltNames: trustDomains.map((td) => workloadSpiffeId(td, helloworld.namespace, helloworld.serviceAccount)),
            },
        },
    };
}

/** The seed's `helloworld-gateway`: plain HTTP on port 80 of the ingress gateway. */
export function helloworldGatewaySpec(): Record<string, unknown> {
    return {
        selector: { ...helloworldIngress.gatewaySelector },
        servers: [{ port: { number: helloworldIngress.port, name: "http", protocol: "HTTP" }, hosts: ["*"] }],
    };
}

/** Routes exactly `/hello` from the gateway to the helloworld Service. */
export function helloworldVirtualServiceSpec(): Record<string, unknown> {
    return {
        hosts: ["*"],
        gateways: [helloworldIngress.gateway],
        http: [
            {
                match: [{ uri: { exact: helloworld.path } }],
                route: [{ destination: { host: helloworld.service, port: { number: helloworld.port } } }],
            },
        ],
    };
}

export interface SampleAppsArgs {
    /** Cluster the samples run in; every object goes through its provider. */
    cluster: MeshCluster;
    /**
     * Position of this domain in the config's domain list: it picks the helloworld version
     * (v1 for the first) and makes the second domain host the ingress sample and Bookinfo, as in
     * the seed.
     */
    domainIndex: number;
    /**
     * Trust domain of every domain in the mesh: helloworld answers from each of them, so its
     * DestinationRule must accept each one's SPIFFE ID.
     */
    trustDomains: string[];
    /**
     * Istio is serving in this cluster (CRDs, sidecar injector, ingress gateway). A pod admitted
     * before the injector runs never gets a sidecar, and the Istio CRs need their CRDs, so
     * workloads and CRs wait on these.
     */
    meshReady: pulumi.Input<pulumi.Resource>[];
}

/**
 * The seed's sample workloads in one cluster: helloworld (one version per domain) and the curl
 * client in every cluster; the ingress Gateway, VirtualService and Bookinfo in the second
 * domain; the helloworld DestinationRule accepting every domain's identity. All pods take their
 * certificates from SPIRE through the `spire` injection template.
 */
export class SampleApps extends pulumi.ComponentResource {
    /** Version label of this cluster's helloworld Deployment. */
    public readonly helloworldVersion: string;

    constructor(name: string, args: SampleAppsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("spire-istio-mesh:index:SampleApps", name, {}, opts);
        const { cluster, domainIndex, trustDomains, meshReady } = args;
        const prefix = cluster.clusterName;
        const plain = inCluster(cluster, this);
        const afterMesh = inCluster(cluster, this, { dependsOn: meshReady });
        this.helloworldVersion = helloworldVersion(domainIndex);

        const helloworldNs = new k8s.core.v1.Namespace(
            `${prefix}-ns-${helloworld.namespace}`,
            { metadata: injectedNamespaceMetadata(helloworld.namespace) },
            plain,
        );
        const helloworldNamespace = helloworldNs.metadata.name;
        const sleepNs = new k8s.core.v1.Namespace(
            `${prefix}-ns-${sleepClient.namespace}`,
            { metadata: injectedNamespaceMetadata(sleepClient.namespace) },
            plain,
        );
        const sleepNamespace = sleepNs.metadata.name;

        const helloworldSa = new k8s.core.v1.ServiceAccount(
            `${prefix}-sa-${helloworld.serviceAccount}`,
            { metadata: { name: helloworld.serviceAccount, namespace: helloworldNamespace } },
            plain,
        );
        new k8s.core.v1.Service(
            `${prefix}-svc-${helloworld.service}`,
            { metadata: { name: helloworld.service, namespace: helloworldNamespace, labels: { app: helloworld.appLabel } }, spec: helloworldServiceSpec() },
            plain,
        );
        const deploymentName = helloworldDeploymentName(domainIndex);
        new k8s.apps.v1.Deployment(
            `${prefix}-${deploymentName}`,
            {
                metadata: { name: deploymentName, namespace: helloworldSa.metadata.namespace, labels: { app: helloworld.appLabel, version: this.helloworldVersion } },
                spec: helloworldDeploymentSpec(domainIndex),
            },
            afterMesh,
        );

        const sleepSa = new k8s.core.v1.ServiceAccount(
            `${prefix}-sa-${sleepClient.serviceAccount}`,
            { metadata: { name: sleepClient.serviceAccount, namespace: sleepNamespace } },
            plain,
        );
        new k8s.apps.v1.Deployment(
            `${prefix}-${sleepClient.deployment}`,
            {
                metadata: { name: sleepClient.deployment, namespace: sleepSa.metadata.namespace, labels: { app: sleepClient.appLabel } },
                spec: sleepDeploymentSpec(),
            },
            afterMesh,
        );

        // Istio networking objects of the helloworld sample, after Istio's CRDs and webhook.
        const helloworldIstioObject = (suffix: string, kind: string, objectName: string, spec: Record<string, unknown>) =>
            new k8s.apiextensions.CustomResource(
                `${prefix}-${suffix}-${objectName}`,
                { apiVersion: "networking.istio.io/v1", kind, metadata: { name: objectName, namespace: helloworldNamespace }, spec },
                afterMesh,
            );
        helloworldIstioObject("dr", "DestinationRule", helloworld.service, helloworldDestinationRuleSpec(trustDomains));

        if (domainIndex === ingressDomainIndex) {
            helloworldIstioObject("gw", "Gateway", helloworldIngress.gateway, helloworldGatewaySpec());
            helloworldIstioObject("vs", "VirtualService", helloworldIngress.virtualService, helloworldVirtualServiceSpec());
            this.declareBookinfo(cluster, prefix, afterMesh);
        }

        this.registerOutputs({ helloworldVersion: this.helloworldVersion });
    }

    /** Bookinfo in `default`, as the seed deploys it: services, accounts and every version. */
    private declareBookinfo(cluster: MeshCluster, prefix: string, afterMesh: pulumi.CustomResourceOptions): void {
        const plain = inCluster(cluster, this);
        const accounts = new Map<string, pulumi.Output<string>>();
        for (const app of bookinfo.apps) {
            new k8s.core.v1.Service(
                `${prefix}-bookinfo-svc-${app}`,
                { metadata: { name: app, namespace: bookinfo.namespace, labels: { app, service: app } }, spec: bookinfoServiceSpec(app) },
                plain,
            );
            const account = new k8s.core.v1.ServiceAccount(
                `${prefix}-bookinfo-sa-${app}`,
                { metadata: { name: bookinfo.serviceAccount(app), namespace: bookinfo.namespace, labels: { account: app } } },
                plain,
            );
            accounts.set(app, account.metadata.namespace);
        }
        for (const workload of bookinfo.workloads) {
            const name = `${workload.app}-${workload.version}`;
            new k8s.apps.v1.Deployment(
                `${prefix}-bookinfo-${name}`,
                {
                    // The namespace comes from the account, so the Deployment follows its account.
                    metadata: { name, namespace: accounts.get(workload.app)!, labels: { app: workload.app, version: workload.version } },
                    spec: bookinfoDeploymentSpec(workload),
                },
                afterMesh,
            );
        }
    }
}
