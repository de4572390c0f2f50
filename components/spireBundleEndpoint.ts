import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { isIP } from "node:net";
import { Exposure } from "../config/model";
import { inClusterOwningCloudResources, MeshCluster } from "./meshCluster";

/** Namespace of the SPIRE Helm releases (server, agent and CSI driver all land here). */
export const spireNamespaceName = "spire-server";
/** Release name of the `spire` chart; with the namespace it fixes object names and the class name. */
export const spireReleaseName = "spire";
/** Port of SPIRE's federation bundle endpoint (the chart's `federation.bundleEndpoint.port`). */
export const bundleEndpointPort = 8443;

/**
 * The class the chart's controller manager watches: `<release namespace>-<release name>` unless
 * overridden (spire-server `controller-manager-class-name` helper). CRs with another class are ignored.
 */
export function spireClassName(releaseNamespace: string, releaseName: string): string {
    return `${releaseNamespace}-${releaseName}`;
}

/** Labels of the SPIRE server pods of a release: the StatefulSet's own selector. */
export function spireServerSelector(releaseName: string): Record<string, string> {
    return {
        "app.kubernetes.io/name": "server",
        "app.kubernetes.io/instance": releaseName,
        "app.kubernetes.io/component": "server",
    };
}

/** `https://host:port`, bracketing an IPv6 host; a host that already carries a port is refused. */
export function httpsUrl(host: string, port: number): string {
    if (host === "") throw new Error("no address to build a URL from");
    const isIpv6 = isIP(host) === 6;
    if (host.includes(":") && !isIpv6) throw new Error(`address ${JSON.stringify(host)} already carries a port`);
    return `https://${isIpv6 ? `[${host}]` : host}:${port}`;
}

/** The address a LoadBalancer Service's status names, once the provider waited for it. */
export function loadBalancerHost(status: k8s.types.output.core.v1.ServiceStatus | undefined): string {
    const ingress = status?.loadBalancer?.ingress?.[0];
    const host = ingress?.ip ?? ingress?.hostname;
    if (!host) throw new Error("the LoadBalancer Service has no ingress address");
    return host;
}

/**
 * What the provider waits for on the bundle endpoint Service. Its default await wants ready pods
 * behind the selector, which only exist once the SPIRE chart runs, and peers need the URL before
 * that: so a LoadBalancer waits for its address alone, and a NodePort (allocated on create) for nothing.
 */
export function bundleEndpointAwait(exposure: Exposure): Record<string, string> {
    return exposure === "LoadBalancer"
        ? { "pulumi.com/waitFor": "jsonpath={.status.loadBalancer.ingress[0]}" }
        : { "pulumi.com/skipAwait": "true" };
}

/** The bundle endpoint Service's spec for an exposure mode. */
export function bundleEndpointServiceSpec(args: {
    exposure: Exposure;
    nodePort: number;
    peerSourceRanges: string[];
}): k8s.types.input.core.v1.ServiceSpec {
    const port: k8s.types.input.core.v1.ServicePort = {
        name: "federation",
        protocol: "TCP",
        port: bundleEndpointPort,
        // The server container's named port; the chart sets it to federation.bundleEndpoint.port.
        targetPort: "federation",
        ...(args.exposure === "NodePort" ? { nodePort: args.nodePort } : {}),
    };
    return {
        type: args.exposure,
        selector: spireServerSelector(spireReleaseName),
        ports: [port],
        ...(args.exposure === "LoadBalancer" && args.peerSourceRanges.length > 0
            ? { loadBalancerSourceRanges: args.peerSourceRanges }
            : {}),
    };
}

export interface SpireBundleEndpointArgs {
    /** The domain's cluster. */
    cluster: MeshCluster;
    /** LoadBalancer (cloud) or NodePort (kind): how peers' SPIRE servers reach this endpoint. */
    exposure: Exposure;
    /** Fixed node port in NodePort exposure, so peers know the URL before anything runs. */
    nodePort: number;
    /**
     * Who may reach a public LoadBalancer: every peer's egress addresses, since peers' SPIRE
     * servers fetch the bundle from their own clusters; empty means anyone (the endpoint only
     * serves public keys).
     */
    peerSourceRanges: string[];
}

/**
 * Where peers fetch this domain's SPIFFE bundle: the SPIRE namespace and a Service exposing only
 * the server's federation port 8443 (never its gRPC API). It exists before the SPIRE chart, so its
 * address, which peers' ClusterFederatedTrustDomains need, is known early. The chart's own Service
 * stays ClusterIP: it would expose gRPC too, and it cannot take a fixed node port.
 */
export class SpireBundleEndpoint extends pulumi.ComponentResource {
    /** The SPIRE namespace's name, as an output of the Namespace. */
    readonly namespace: pulumi.Output<string>;
    readonly service: k8s.core.v1.Service;
    /** `https://<address>:<port>` built from the address the provider waited for. */
    readonly url: pulumi.Output<string>;

    constructor(name: string, args: SpireBundleEndpointArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("spire-istio-mesh:index:SpireBundleEndpoint", name, {}, opts);
        const { cluster } = args;

        const namespace = new k8s.core.v1.Namespace(
            `${name}-spire`,
            {
                metadata: {
                    name: spireNamespaceName,
                    // The agent and CSI driver use hostPath and hostNetwork; a cluster-wide
                    // restricted default would keep them from starting.
                    labels: { "pod-security.kubernetes.io/enforce": "privileged" },
                },
            },
            // Deleting it deletes the SPIRE server's volume claim, and with it the disk.
            inClusterOwningCloudResources(cluster, this),
        );
        this.namespace = namespace.metadata.name;

        this.service = new k8s.core.v1.Service(
            `${name}-spire-bundle-endpoint`,
            {
                metadata: {
                    name: "spire-bundle-endpoint",
                    namespace: this.namespace,
                    // How the policy pack recognises the one Service that may expose SPIRE
                    // outside the cluster (and checks that it exposes only 8443).
                    labels: { "app.kubernetes.io/component": "bundle-endpoint" },
                    annotations: bundleEndpointAwait(args.exposure),
                },
                spec: bundleEndpointServiceSpec(args),
            },
            inClusterOwningCloudResources(cluster, this),
        );

        if (args.exposure === "LoadBalancer") {
            this.url = this.service.status.apply((status) => httpsUrl(loadBalancerHost(status), bundleEndpointPort));
        } else {
            const nodeAddress = cluster.nodeAddress;
            if (nodeAddress === undefined) {
                throw new pulumi.RunError(`${cluster.clusterName}: NodePort exposure needs a node address, which this platform does not offer`);
            }
            // The node port the Service really got, as the API server reports it.
            const nodePort = this.service.spec.ports.apply((ports) => ports[0]?.nodePort ?? args.nodePort);
            this.url = pulumi.all([nodeAddress, nodePort]).apply(([address, port]) => httpsUrl(address, port));
        }

        this.registerOutputs({ namespace: this.namespace, url: this.url });
    }
}
