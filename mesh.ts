import * as pulumi from "@pulumi/pulumi";
import { createCluster } from "./components/clusters";
import { MeshCluster } from "./components/meshCluster";
import { DomainConfig, MeshConfig } from "./config/model";

/** Everything the program built for one trust domain. */
export interface DeployedDomain {
    config: DomainConfig;
    cluster: MeshCluster;
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

/**
 * Declares the whole mesh for a validated config: one cluster per domain, then per-domain trust,
 * SPIRE and Istio, each wired to every peer. Nothing here assumes two domains.
 */
export function deployMesh(mesh: MeshConfig): DeployedMesh {
    const domains: DeployedDomain[] = mesh.domains.map((config) => ({ config, cluster: createCluster(mesh, config) }));

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
