import * as pulumi from "@pulumi/pulumi";
import { loadMeshConfig } from "./config/load";
import { federationCredentialsOutputName, federationOutputName } from "./lib/federationContract";
import { checkPeerRecords } from "./lib/peerRecord";
import { engineStackOutputsReader, probePeerStacks, referencePeerStacks } from "./lib/peerStacks";
import { checkRecordedTrustDomains } from "./lib/trustDomainRecord";
import { deployMesh } from "./mesh";

/**
 * The program. Config is validated in full before any resource is declared: a bad stack fails
 * here, with every problem listed, and nothing is half-created. The trust domains the state
 * recorded are compared with the config next: a renamed one is refused. Peer stacks (cross-stack
 * federation) are probed next, also before anything is declared: a peer that does not exist yet
 * or lacks what this stack needs is reported and left out, and the rest deploys.
 */
export = async (): Promise<Record<string, unknown>> => {
    const config = loadMeshConfig();
    // A renamed trust domain would leave SPIRE unable to start: refused before anything changes.
    await checkRecordedTrustDomains(config.domains.map(({ name, trustDomain }) => ({ name, trustDomain })));
    const probe = await probePeerStacks(
        config.peerStacks,
        {
            stack: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
            meshId: config.meshId,
            domains: config.domains.map((domain) => ({ clusterName: domain.name, trustDomain: domain.trustDomain, network: domain.network })),
        },
        engineStackOutputsReader,
    );
    // A peer connected before that cannot be read now stops the run here, before anything is declared.
    const goneWarnings = await checkPeerRecords({ connected: probe.connected, unreadable: probe.unreadable, allowedToGo: config.peerStacksAllowedToGo });
    for (const warning of [...probe.warnings, ...goneWarnings]) pulumi.log.warn(warning);
    const readByPeers = config.peerStacks.length > 0;
    if (readByPeers && config.exportAdminKubeconfigs) {
        pulumi.log.warn(
            "exportAdminKubeconfigs is true on a stack with peerStacks: every peer allowed to read this stack's outputs can read its admin kubeconfigs too",
        );
    }
    const localTrustDomains = config.domains.map((domain) => domain.trustDomain);
    const mesh = deployMesh(config, referencePeerStacks(probe.connected, localTrustDomains), probe.awaited);

    return {
        /** Per domain: trust domain, SPIFFE bundle, bundle endpoint, network and gateway addresses. */
        domains: mesh.outputs,
        /**
         * Kubeconfig per domain (secret): what `npm run verify` uses to reach each cluster. By default
         * only on a stack without peer stacks: a stack reference reads every output of the stack.
         */
        ...(config.exportAdminKubeconfigs ? { kubeconfigs: mesh.kubeconfigs } : {}),
        /** What peer stacks read: versioned, no credential in it. */
        [federationOutputName]: mesh.federation,
        /**
         * Per domain, one reader-only kubeconfig per trust domain of a peer stack, for peer stacks' istiod (secret). Only a stack that
         * names peer stacks has readers for it (federation is approved on both sides), so no other
         * stack hands a credential out.
         */
        ...(readByPeers ? { [federationCredentialsOutputName]: mesh.federationCredentials } : {}),
    };
};
