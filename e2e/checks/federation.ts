/**
 * check-federation: each cluster holds, per peer, one ClusterFederatedTrustDomain whose bundle is
 * byte-equal to what the peer exported and holds exactly the root this run generated for the
 * peer; and a ClusterSPIFFEID federating with every peer (spiffeId.ts).
 */
import { createHash } from "node:crypto";
import { Domain, peersOf } from "../clusters/domains";
import { rootCertificate } from "../clusters/rootCa";
import { kubectlJson, List, Meta } from "../runner/kubectl";
import { check } from "../runner/phases";
import { checkSpiffeIdFederates } from "./spiffeId";

export type FederatedTrustDomains = List<Meta & { spec: { trustDomain: string; trustDomainBundle: string } }>;

/**
 * The cluster's ClusterFederatedTrustDomains.
 * @param holder the cluster
 */
export const federatedTrustDomains = (holder: Domain): Promise<FederatedTrustDomains> => kubectlJson<FederatedTrustDomains>(holder, "get", "clusterfederatedtrustdomains.spire.spiffe.io");

/**
 * `holder` has one ClusterFederatedTrustDomain for `peer`, its bundle byte-equal to what the peer
 * exported and holding exactly the peer's root.
 * @param holder the cluster read
 * @param peer the domain it must federate with
 * @param exported the peer's `trustBundle` as its stack exports it
 * @param evidence the phase's
 */
export async function checkFederatedWith(holder: Domain, peer: Domain, exported: string | undefined, evidence: string[]): Promise<void> {
    const trustDomains = await federatedTrustDomains(holder);
    const found = trustDomains.items.filter((item) => item.spec.trustDomain === peer.trustDomain);
    check(found.length === 1, `${holder.name}: ${found.length} ClusterFederatedTrustDomains for ${peer.trustDomain}, want 1`);
    check(exported !== undefined, `${peer.name}: no exported trustBundle`);
    check(found[0].spec.trustDomainBundle === exported, `${holder.name}: bundle of ${peer.trustDomain} differs from ${peer.name}'s exported trustBundle`);
    // Independently of the program: the bundle holds exactly the root this run generated for the peer.
    const x5c = (JSON.parse(exported) as { keys: { x5c: string[] }[] }).keys.map((key) => key.x5c[0]);
    const peerRoot = rootCertificate(peer).raw.toString("base64");
    check(x5c.length === 1 && x5c[0] === peerRoot, `${holder.name}: bundle of ${peer.trustDomain} does not hold exactly ${peer.name}'s root`);
    evidence.push(`${holder.name}: ${found[0].metadata.name} bundle byte-equal to ${peer.name}'s export (sha256 ${createHash("sha256").update(exported).digest("hex").slice(0, 12)}), holds its root`);
}

/**
 * Every domain of the mesh federates with every other, per cluster: the trust domains, then the ClusterSPIFFEID.
 * @param mesh the domains deployed together
 * @param trustBundleOf what the stack deploying a domain exports as its `trustBundle`
 * @param evidence the phase's
 */
export async function checkFederation(mesh: Domain[], trustBundleOf: (domain: Domain) => Promise<string | undefined>, evidence: string[]): Promise<void> {
    for (const domain of mesh) {
        const peers = peersOf(mesh, domain);
        for (const peer of peers) await checkFederatedWith(domain, peer, await trustBundleOf(peer), evidence);
        await checkSpiffeIdFederates(domain, peers.map((peer) => peer.trustDomain), evidence);
    }
}
