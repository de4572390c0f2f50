/**
 * check-a-unlinked (cross-stack): once the peer's stack is destroyed and this stack updated, the
 * cluster holds nothing that points at the peer, and everything else of it is still there and ready.
 */
import { Domain } from "../clusters/domains";
import { leftBehind } from "../clusters/snapshot";
import { check } from "../runner/phases";
import { cacerts } from "./cacerts";
import { federatedTrustDomains } from "./federation";
import { remoteSecrets } from "./remoteSecrets";
import { spiffeIds } from "./spiffeId";
import { checkWorkloadsReady } from "./workloads";

/**
 * @param holder the cluster whose stack stays
 * @param gone the peer whose stack was destroyed: its cluster's leftovers are reported, not judged
 * @param evidence the phase's
 */
export async function checkUnlinked(holder: Domain, gone: Domain, evidence: string[]): Promise<void> {
    const trustDomains = await federatedTrustDomains(holder);
    const toPeer = trustDomains.items.filter((item) => item.spec.trustDomain === gone.trustDomain).map((item) => item.metadata.name);
    check(toPeer.length === 0, `${holder.name}: ClusterFederatedTrustDomains for ${gone.trustDomain} remain: ${toPeer.join(", ")}`);
    const secrets = await remoteSecrets(holder);
    const toPeerSecrets = secrets.items.filter((item) => item.data[gone.name] !== undefined).map((item) => item.metadata.name);
    check(toPeerSecrets.length === 0, `${holder.name}: remote secrets for ${gone.name} remain: ${toPeerSecrets.join(", ")}`);
    const ids = await spiffeIds(holder);
    check(ids.items.length > 0, `${holder.name}: no ClusterSPIFFEID left`);
    const federating = ids.items.filter((id) => id.spec.federatesWith?.includes(gone.trustDomain)).map((id) => id.metadata.name);
    check(federating.length === 0, `${holder.name}: ClusterSPIFFEIDs still federating with ${gone.trustDomain}: ${federating.join(", ")}`);
    evidence.push(`${holder.name}: no ClusterFederatedTrustDomain for ${gone.trustDomain} (${trustDomains.items.length} left), no remote secret for ${gone.name} (${secrets.items.length} left), ClusterSPIFFEID ${ids.items.map((id) => id.metadata.name).join(", ")} federates with nothing of ${gone.trustDomain}`);
    const certificate = await cacerts(holder);
    evidence.push(`${holder.name}: cacerts chains to ${holder.trustDomain}'s root (openssl verify OK), not after ${certificate.validTo}`);
    await checkWorkloadsReady(holder, evidence);
    const remaining = await leftBehind(gone);
    evidence.push(`${gone.name} after B's destroy: ${remaining.length} objects beyond its baseline${remaining.length > 0 ? ` (${remaining.join(", ")})` : ""}`);
}
