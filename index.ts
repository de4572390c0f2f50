import * as pulumi from "@pulumi/pulumi";
import { loadMeshConfig } from "./config/load";
import { federationCredentialsOutputName, federationOutputName } from "./lib/federationContract";
import { engineStackOutputsReader, probePeerStacks, referencePeerStacks } from "./lib/peerStacks";
import { deployMesh } from "./mesh";

/**
 * The program. Config is validated in full before any resource is declared: a bad stack fails
 * here, with every problem listed, and nothing is half-created. Peer stacks (cross-stack
 * federation) are probed next, also before anything is declared: a peer that does not exist yet
 * or lacks what this stack needs is reported and left out, and the rest deploys.
 */
export = async (): Promise<Record<string, unknown>> => {
    const config = loadMeshConfig();
    const probe = await probePeerStacks(
        config.peerStacks,
        {
            stack: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
            meshId: config.meshId,
            domains: config.domains.map((domain) => ({ clusterName: domain.name, trustDomain: domain.trustDomain, network: domain.network })),
        },
        engineStackOutputsReader,
    );
    for (const warning of probe.warnings) pulumi.log.warn(warning);
    const localTrustDomains = config.domains.map((domain) => domain.trustDomain);
    const mesh = deployMesh(config, referencePeerStacks(probe.connected, localTrustDomains), probe.awaited);

    return {
        /** Per domain: trust domain, SPIFFE bundle, bundle endpoint, network and gateway addresses. */
        domains: mesh.outputs,
        /** Kubeconfig per domain (secret): what `npm run verify` uses to reach each cluster. */
        ...(config.exportAdminKubeconfigs ? { kubeconfigs: mesh.kubeconfigs } : {}),
        /** What peer stacks read: versioned, no credential in it. */
        [federationOutputName]: mesh.federation,
        /** Per domain, one reader-only kubeconfig per peer trust domain, for peer stacks' istiod (secret). */
        [federationCredentialsOutputName]: mesh.federationCredentials,
    };
};
