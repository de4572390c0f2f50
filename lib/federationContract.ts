import { z } from "zod";
import { exposures } from "../config/model";

/**
 * What a stack publishes so that stacks of other trust domains can federate with it: the
 * versioned `federation` output (plain) and the `federationCredentials` output (secret). Nothing
 * else of a stack is read by its peers, and neither output holds an admin credential or a key.
 *
 * Compatibility: fields may be added within a version (readers ignore what they do not know); a
 * change that breaks readers publishes a new output beside this one for a release.
 */
export const federationOutputName = "federation";
export const federationCredentialsOutputName = "federationCredentials";
export const federationSchemaName = "spire-istio-mesh/federation";
export const federationContractVersion = 1;

/** One trust domain as its peers need it. */
export const federatedDomainSchema = z.object({
    /** Istio cluster ID: the key of the peer's remote secret and of its `fromRegistry` network. */
    clusterName: z.string().min(1),
    trustDomain: z.string().min(1),
    /** Istio network, reached through the east-west gateway. */
    network: z.string().min(1),
    /** SPIFFE bundle JSON of the domain's root: the bootstrap trust before the first refresh. */
    trustBundle: z.string().min(1),
    /** SPIRE bundle endpoint (https_spiffe profile). */
    bundleEndpointUrl: z.string().min(1),
    /** The API server URL peers' istiod reach (the one in the reader kubeconfig). */
    apiServerUrl: z.string().min(1),
    /** How the domain's gateways are exposed: decides how peers' istiod find its east-west gateway. */
    exposure: z.enum(exposures),
    /** `host:port` of the east-west gateway's cross-network port. */
    eastWestAddress: z.string().min(1),
});
export type FederatedDomain = z.infer<typeof federatedDomainSchema>;

export const federationContractSchema = z.object({
    schema: z.literal(federationSchemaName),
    version: z.literal(federationContractVersion),
    /** Istio's mesh ID: every cluster of one mesh shares it. */
    meshId: z.string().min(1),
    /** Keyed by cluster name. */
    domains: z.record(z.string(), z.unknown()),
});
export type FederationContract = Omit<z.infer<typeof federationContractSchema>, "domains"> & { domains: Record<string, FederatedDomain> };

/** The `federation` output of a stack whose domains are `domains`. */
export function federationContract(meshId: string, domains: FederatedDomain[]): FederationContract {
    return {
        schema: federationSchemaName,
        version: federationContractVersion,
        meshId,
        domains: Object.fromEntries(domains.map((domain) => [domain.clusterName, domain])),
    };
}

/** The fields of a published domain that are missing or empty, by name. */
export function missingDomainFields(value: unknown): string[] {
    const result = federatedDomainSchema.safeParse(value);
    if (result.success) return [];
    return [...new Set(result.error.issues.map((issue) => String(issue.path[0] ?? "(the domain)")))];
}
