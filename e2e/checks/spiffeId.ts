/**
 * The ClusterSPIFFEIDs of a cluster: the mesh's workloads get identities that federate with every
 * peer trust domain.
 */
import { Domain } from "../clusters/domains";
import { kubectlJson, List, Meta } from "../runner/kubectl";
import { check } from "../runner/phases";

export type SpiffeIds = List<Meta & { spec: { federatesWith?: string[] } }>;

/**
 * The cluster's ClusterSPIFFEIDs.
 * @param holder the cluster
 */
export const spiffeIds = (holder: Domain): Promise<SpiffeIds> => kubectlJson<SpiffeIds>(holder, "get", "clusterspiffeids.spire.spiffe.io");

/**
 * One ClusterSPIFFEID of `holder` federates with every trust domain of `peers`.
 * @param holder the cluster
 * @param peers the peers' trust domains
 * @param evidence the phase's
 */
export async function checkSpiffeIdFederates(holder: Domain, peers: string[], evidence: string[]): Promise<void> {
    const ids = await spiffeIds(holder);
    check(ids.items.some((id) => peers.every((td) => id.spec.federatesWith?.includes(td))), `${holder.name}: no ClusterSPIFFEID federating with ${peers.join(", ")}`);
    evidence.push(`${holder.name}: ClusterSPIFFEID ${ids.items.map((id) => id.metadata.name).join(", ")} federates with ${peers.join(", ")}`);
}
