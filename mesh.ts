import * as pulumi from "@pulumi/pulumi";
import { createCluster } from "./components/clusters";
import { createIstioNamespace } from "./components/istioNamespace";
import { MeshCluster } from "./components/meshCluster";
import { DomainConfig, MeshConfig } from "./config/model";

/** Everything the program built for one trust domain. */
export interface DeployedDomain {
    config: DomainConfig;
    cluster: MeshCluster;
    /** Name of `istio-system`, as an output of the labelled Namespace (orders its users after it). */
    istioNamespace: pulumi.Output<string>;
}

/** What stack outputs publish of each domain, so another stack can federate via StackReference. */
export interface DomainOutputs {
    clusterName: string;
    trustDomain: string;
    network: string;
    apiServerUrl: pulumi.Output<string>;
}

export interface DeployedMesh {
    domains: DeployedDomain[];
    /** Per-domain outputs, keyed by domain name. */
    outputs: Record<string, DomainOutputs>;
    /** Kubeconfigs keyed by domain name; a Pulumi secret. */
    kubeconfigs: pulumi.Output<Record<string, string>>;
}

/** Every domain but `domain`: the peers it federates and shares a mesh with. */
export function peersOf<T extends { config: DomainConfig }>(domains: T[], domain: T): T[] {
    return domains.filter((other) => other.config.name !== domain.config.name);
}

/**
 * Declares the whole mesh for a validated config, in phases that follow the data each needs:
 *   1. per domain: the cluster and its labelled `istio-system`;
 *   2. per domain: what peers must know before any SPIRE runs (root CA, bundle endpoint);
 *   3. per domain: SPIRE, federated with every peer using phase 2's outputs;
 *   4. per domain: Istio, then the remote secrets each cluster holds for every peer.
 * Nothing here assumes two domains.
 */
export function deployMesh(mesh: MeshConfig): DeployedMesh {
    // Phase 1
    const domains: DeployedDomain[] = mesh.domains.map((config) => {
        const cluster = createCluster(mesh, config);
        const namespace = createIstioNamespace(cluster, config.network, cluster as unknown as pulumi.Resource);
        return { config, cluster, istioNamespace: namespace.metadata.name };
    });

    const outputs: Record<string, DomainOutputs> = Object.fromEntries(
        domains.map(({ config, cluster }) => [
            config.name,
            {
                clusterName: config.name,
                trustDomain: config.trustDomain,
                network: config.network,
                apiServerUrl: cluster.apiServerUrl,
            },
        ]),
    );
    const kubeconfigs = pulumi.secret(
        pulumi
            .all(domains.map(({ cluster }) => cluster.kubeconfig))
            .apply((texts) => Object.fromEntries(texts.map((text, index) => [domains[index].config.name, text]))),
    );
    return { domains, outputs, kubeconfigs };
}
