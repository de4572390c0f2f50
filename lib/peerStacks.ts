import * as pulumi from "@pulumi/pulumi";
import { Exposure, PeerStackConfig } from "../config/model";
import {
    FederatedDomain,
    federationContractSchema,
    federationContractVersion,
    federationCredentialsOutputName,
    federationOutputName,
    federationSchemaName,
    missingDomainFields,
} from "./federationContract";

/**
 * Cross-stack federation, read side. A stack reference to a stack that does not exist fails the
 * whole update, and the program cannot catch it; the engine's `readStackOutputs` invoke reads the
 * same outputs and its failure can be caught. So each peer stack is probed first: a peer that is
 * missing (not deployed yet, destroyed, removed) or lacks what this stack needs is reported and
 * left out, and everything else deploys; a peer that passes is then read through a
 * `StackReference`, which keeps its secret output secret and records the read in the state.
 */

/** A peer's outputs as the engine returns them: every top-level output by name. */
export interface PeerStackOutputs {
    outputs: Record<string, unknown>;
}

/** Reads a stack's outputs; rejects with the engine's message (`unknown stack "..."`) when it does not exist. */
export type StackOutputsReader = (stack: string) => Promise<PeerStackOutputs>;

/** One of a peer stack's trust domains, as far as the probe can tell before anything is declared. */
export interface PeerDomainPlan {
    stack: string;
    clusterName: string;
    trustDomain: string;
    network: string;
    exposure: Exposure;
}

export interface PeerStackProbe {
    /** Peer domains this run federates with. */
    connected: PeerDomainPlan[];
    /**
     * Approved peer trust domains whose stack does not exist yet: this stack issues their reader
     * credentials in advance, so that each finds its credential on its first run (the documented
     * order up A, up B, up A). A peer stack that exists but publishes nothing (destroyed, or never
     * deployed) is neither connected nor awaited: its credentials are revoked.
     */
    awaited: string[];
    /** One line per peer (or peer domain) left out, naming it and what is missing. */
    warnings: string[];
}

/** What the probe compares peers against: this stack's own identity and domains. */
export interface LocalMesh {
    /** This stack as references name it (`org/project/stack`). */
    stack: string;
    meshId: string;
    domains: { clusterName: string; trustDomain: string; network: string }[];
}

/** The engine's invoke: the same read a StackReference makes, as a call whose failure the program can catch. */
export const engineStackOutputsReader: StackOutputsReader = async (stack) => {
    const result = (await pulumi.runtime.invoke("pulumi:pulumi:readStackOutputs", { name: stack })) as { outputs?: Record<string, unknown> };
    return { outputs: result.outputs ?? {} };
};

function isUnknownStack(error: unknown): boolean {
    const message = error instanceof Error ? error.message : typeof error === "object" && error !== null ? String((error as { details?: unknown }).details) : String(error);
    return /unknown stack/.test(message);
}

function errorText(error: unknown): string {
    if (error instanceof Error) return error.message;
    if (typeof error === "object" && error !== null && "details" in error) return String((error as { details: unknown }).details);
    return String(error);
}

/**
 * Decides which peer domains this run connects. Throws, before anything is declared, where going
 * on could tear down a working federation or trust the wrong thing: a read failing for any reason
 * but a missing stack, an unknown contract version, another mesh ID, a secret this login cannot
 * decrypt, a peer that collides with a local cluster or network.
 */
export async function probePeerStacks(peers: PeerStackConfig[], local: LocalMesh, read: StackOutputsReader): Promise<PeerStackProbe> {
    const connected: PeerDomainPlan[] = [];
    const awaited: string[] = [];
    const warnings: string[] = [];
    for (const [index, peer] of peers.entries()) {
        const label = `peer stack "${peer.stack}" (peerStacks[${index}])`;
        const leftOut = `this stack deploys without ${peer.trustDomains.join(", ")}; run \`pulumi up\` here again once it is fixed`;
        if (peer.stack === local.stack) throw new Error(`${label} is this stack itself; list other stacks only`);
        let outputs: Record<string, unknown>;
        try {
            outputs = (await read(peer.stack)).outputs;
        } catch (error) {
            if (isUnknownStack(error)) {
                warnings.push(`${label} does not exist on this backend, or this login cannot read it: ${leftOut}`);
                awaited.push(...peer.trustDomains);
                continue;
            }
            throw new Error(`${label} could not be read (${errorText(error)}); nothing was changed, since a passing error must not unlink a working federation`);
        }
        const published = outputs[federationOutputName];
        if (published === undefined) {
            warnings.push(`${label} exports no "${federationOutputName}" output (not deployed yet, destroyed, or deployed by an older program): ${leftOut}`);
            continue;
        }
        const contract = federationContractSchema.safeParse(published);
        if (!contract.success) {
            const found = published as { schema?: unknown; version?: unknown };
            throw new Error(
                `${label} publishes a "${federationOutputName}" output this program cannot read (schema ${JSON.stringify(found.schema)}, version ${JSON.stringify(found.version)}; supported: ${federationSchemaName} version ${federationContractVersion})`,
            );
        }
        if (contract.data.meshId !== local.meshId) {
            throw new Error(`${label} belongs to mesh "${contract.data.meshId}", this stack to "${local.meshId}": every cluster of one mesh must share meshId`);
        }
        const credentials = outputs[federationCredentialsOutputName];
        const domains = Object.values(contract.data.domains) as Partial<FederatedDomain>[];
        for (const trustDomain of peer.trustDomains) {
            const domain = domains.find((candidate) => candidate.trustDomain === trustDomain);
            if (!domain) {
                const offered = domains.map((candidate) => String(candidate.trustDomain)).join(", ") || "none";
                warnings.push(`${label} does not publish trust domain ${trustDomain} (it publishes: ${offered}): this stack deploys without it`);
                continue;
            }
            const missing = missingDomainFields(domain);
            if (missing.length > 0) {
                warnings.push(`${label} publishes trust domain ${trustDomain} without ${missing.join(", ")}: this stack deploys without it`);
                continue;
            }
            const published = domain as FederatedDomain;
            if (typeof credentials !== "object" || credentials === null) {
                warnings.push(`${label} exports no "${federationCredentialsOutputName}" output: this stack deploys without ${trustDomain}`);
                continue;
            }
            const issued = (credentials as Record<string, unknown>)[published.clusterName];
            if (issued === undefined && Object.keys(credentials).length === 0) {
                // The engine elides a secret it cannot decrypt as an empty object.
                throw new Error(
                    `${label}: the reader credentials of ${trustDomain} could not be read; both stacks must use a secrets provider this login can decrypt (on the local backend, the same passphrase)`,
                );
            }
            if (typeof issued === "string") {
                warnings.push(
                    `${label} publishes one reader credential of ${trustDomain} shared by all its peers (an older version of this program, whose credential reads every Secret): this stack deploys without ${trustDomain} until that stack is updated`,
                );
                continue;
            }
            const missingFor = local.domains
                .map((own) => own.trustDomain)
                .filter((own) => {
                    const kubeconfig = typeof issued === "object" && issued !== null ? (issued as Record<string, unknown>)[own] : undefined;
                    return typeof kubeconfig !== "string" || kubeconfig === "";
                });
            if (missingFor.length > 0) {
                warnings.push(
                    `${label} issues no reader credential of ${trustDomain} to ${missingFor.join(", ")} (it must list them in its own peerStacks): this stack deploys without ${trustDomain}`,
                );
                continue;
            }
            const clash =
                local.domains.find((own) => own.clusterName === published.clusterName || own.network === published.network) ??
                connected.find((other) => other.clusterName === published.clusterName || other.network === published.network);
            if (clash) {
                throw new Error(
                    `${label}: trust domain ${trustDomain} runs as cluster "${published.clusterName}" on network "${published.network}", which ${clash.trustDomain} already uses; cluster names and networks must be unique across the mesh`,
                );
            }
            connected.push({
                stack: peer.stack,
                clusterName: published.clusterName,
                trustDomain,
                network: published.network,
                exposure: published.exposure,
            });
        }
    }
    return { connected, awaited, warnings };
}

/** A peer domain in another stack, with its published values as Outputs of a StackReference. */
export interface ExternalPeer extends PeerDomainPlan {
    trustBundle: pulumi.Output<string>;
    bundleEndpointUrl: pulumi.Output<string>;
    apiServerUrl: pulumi.Output<string>;
    eastWestAddress: pulumi.Output<string>;
    /**
     * Kubeconfigs of the reader credentials the peer issued to this stack's trust domains, keyed by
     * trust domain (each a Pulumi secret): what each of this stack's istiod uses to watch the peer.
     */
    readerKubeconfigs: Record<string, pulumi.Output<string>>;
}

/**
 * One StackReference per connected peer stack; every value a peer domain needs comes from it,
 * including the credentials it issued to each of `localTrustDomains`.
 */
export function referencePeerStacks(connected: PeerDomainPlan[], localTrustDomains: string[], opts: pulumi.CustomResourceOptions = {}): ExternalPeer[] {
    const references = new Map<string, pulumi.StackReference>();
    return connected.map((plan) => {
        let reference = references.get(plan.stack);
        if (!reference) {
            reference = new pulumi.StackReference(plan.stack, { name: plan.stack }, opts);
            references.set(plan.stack, reference);
        }
        const domain = reference
            .requireOutput(federationOutputName)
            .apply((contract) => (contract as { domains: Record<string, FederatedDomain> }).domains[plan.clusterName]);
        return {
            ...plan,
            trustBundle: domain.apply((d) => d.trustBundle),
            bundleEndpointUrl: domain.apply((d) => d.bundleEndpointUrl),
            apiServerUrl: domain.apply((d) => d.apiServerUrl),
            eastWestAddress: domain.apply((d) => d.eastWestAddress),
            readerKubeconfigs: Object.fromEntries(
                localTrustDomains.map((own) => [
                    own,
                    pulumi.secret(
                        reference
                            .requireOutput(federationCredentialsOutputName)
                            .apply((credentials) => String((credentials as Record<string, Record<string, unknown>>)[plan.clusterName][own])),
                    ),
                ]),
            ),
        };
    });
}
