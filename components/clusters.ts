import * as pulumi from "@pulumi/pulumi";
import { DomainConfig, MeshConfig } from "../config/model";
import { ExistingCluster } from "./existingCluster";
import { GkeCluster } from "./gkeCluster";
import { KindCluster } from "./kindCluster";
import { MeshCluster } from "./meshCluster";

/**
 * Creates (or, for an existing kind context or platform `existing`, adopts) the cluster of one
 * domain on the stack's platform.
 */
export function createCluster(mesh: MeshConfig, domain: DomainConfig, opts: pulumi.ComponentResourceOptions = {}): MeshCluster {
    switch (mesh.platform) {
        case "gke":
            if (!domain.gke) {
                // parseMeshConfig rejects this; the check keeps the type narrowing honest.
                throw new pulumi.RunError(`domain ${domain.name}: missing gke settings`);
            }
            return new GkeCluster(
                domain.name,
                {
                    clusterName: domain.name,
                    settings: domain.gke,
                    releaseChannel: mesh.gke.releaseChannel,
                    deletionProtection: mesh.gke.deletionProtection,
                    masterAuthorizedNetworks: mesh.gke.masterAuthorizedNetworks,
                },
                opts,
            );
        case "kind":
            return new KindCluster(
                domain.name,
                { clusterName: domain.name, settings: domain.kind ?? { nodeImage: mesh.versions.kindNodeImage } },
                opts,
            );
        case "existing":
            if (!domain.existing) {
                throw new pulumi.RunError(`domain ${domain.name}: missing existing-cluster settings`);
            }
            return new ExistingCluster(
                domain.name,
                { clusterName: domain.name, settings: domain.existing, exposure: mesh.exposure },
                opts,
            );
    }
}
