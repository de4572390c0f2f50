import * as pulumi from "@pulumi/pulumi";
import { CertManagerRootCA, suppliedRootCaOf } from "./components/certManagerRootCA";
import { createCluster } from "./components/clusters";
import { createIstioNamespace } from "./components/istioNamespace";
import { IstioMultiPrimary } from "./components/istioMultiPrimary";
import { connectPrimaries, readerKubeconfigOf } from "./components/istioRemoteSecrets";
import { MeshCluster } from "./components/meshCluster";
import { SampleApps } from "./components/sampleApps";
import { SpireBundleEndpoint } from "./components/spireBundleEndpoint";
import { SpireFederatedDomain } from "./components/spireFederatedDomain";
import { DomainConfig, MeshConfig } from "./config/model";
import { chartRepositoryOptsOf } from "./lib/chartRepositories";
import { federationContract, FederationContract } from "./lib/federationContract";
import { crdsOutliveDestroy } from "./lib/helm";
import { ExternalPeer } from "./lib/peerStacks";
import { spiffeBundleJson } from "./lib/spiffeBundle";

/** Everything the program built for one trust domain. */
export interface DeployedDomain {
    config: DomainConfig;
    cluster: MeshCluster;
    /** Name of `istio-system`, as an output of the labelled Namespace (orders its users after it). */
    istioNamespace: pulumi.Output<string>;
    /** The domain's root CA in cert-manager; istiod waits for its `istiodCertificate`. */
    rootCa: CertManagerRootCA;
    /** SPIRE, federated with every peer; istiod and gateways wait for `spire.ready`. */
    spire: SpireFederatedDomain;
    /** Istio primary of the domain's cluster, on the domain's network. */
    istio: IstioMultiPrimary;
}

/** What stack outputs publish of each domain, so another stack can federate via StackReference. */
export interface DomainOutputs {
    /**
     * Position of the domain in the config's list (`pulumi stack output --json` sorts keys, so
     * consumers such as `npm run verify` order domains by this: the first runs helloworld-v1).
     */
    index: number;
    clusterName: string;
    trustDomain: string;
    network: string;
    apiServerUrl: pulumi.Output<string>;
    /** SPIFFE bundle JSON of the domain (its root CA), what a federating peer imports. */
    trustBundle: pulumi.Output<string>;
    /** URL of the domain's SPIRE bundle endpoint (https_spiffe profile). */
    bundleEndpointUrl: pulumi.Output<string>;
    /** `host:port` where peers reach the domain's east-west gateway (cross-network mTLS). */
    eastWestAddress: pulumi.Output<string>;
    /** `host:port` of the domain's ingress gateway's HTTP port. */
    ingressAddress: pulumi.Output<string>;
}

export interface DeployedMesh {
    domains: DeployedDomain[];
    /** Per-domain outputs, keyed by domain name. */
    outputs: Record<string, DomainOutputs>;
    /** Kubeconfigs keyed by domain name; a Pulumi secret. */
    kubeconfigs: pulumi.Output<Record<string, string>>;
    /** What peer stacks read of this one (`lib/federationContract.ts`); no credential in it. */
    federation: pulumi.Output<FederationContract>;
    /**
     * Per domain (cluster name), the reader kubeconfig issued to each peer trust domain that may
     * read it (keyed by that trust domain), for peer stacks' istiod; a Pulumi secret.
     */
    federationCredentials: pulumi.Output<Record<string, Record<string, string>>>;
}

/** Every domain but `domain`: the peers it federates and shares a mesh with. */
export function peersOf<T extends { config: DomainConfig }>(domains: T[], domain: T): T[] {
    return domains.filter((other) => other.config.name !== domain.config.name);
}

/**
 * A resource that something declared earlier must wait for: a promise handed over once the
 * resource is declared (Pulumi accepts a promise wherever it takes an input).
 */
function later<T>(): { value: Promise<T>; provide: (value: T) => void } {
    let provide: (value: T) => void = () => undefined;
    const value = new Promise<T>((resolve) => (provide = resolve));
    return { value, provide };
}

/**
 * Declares the whole mesh for a validated config, in phases that follow the data each needs:
 *   1. per domain: the cluster and its labelled `istio-system` (created once phase 3's SPIRE
 *      release exists, so that destroy removes it, and the Istio pods in it, before SPIRE);
 *   2. per domain: what peers must know before any SPIRE runs (root CA, bundle endpoint);
 *   3. per domain: SPIRE, federated with every peer using phase 2's outputs;
 *   4. per domain: Istio, then the remote secrets each cluster holds for every peer.
 *   5. per domain, unless `samplesEnabled` is false: the seed's sample workloads.
 * Nothing here assumes two domains.
 */
export function deployMesh(mesh: MeshConfig, peersElsewhere: ExternalPeer[] = [], awaitedPeerTrustDomains: string[] = []): DeployedMesh {
    const chartRepositories = chartRepositoryOptsOf(mesh.chartRepositories, mesh.chartRepositoryCredentials);
    // Who may read each cluster: every other domain here, every connected peer domain elsewhere,
    // and approved peer domains whose stack does not exist yet. Anything else has no credential.
    const externalReaders = [...new Set([...peersElsewhere.map((peer) => peer.trustDomain), ...awaitedPeerTrustDomains])];
    // Phase 1
    const clustered = mesh.domains.map((config) => {
        const cluster = createCluster(mesh, config);
        const spireRelease = later<pulumi.Resource>();
        const namespace = createIstioNamespace(cluster, config.network, cluster, spireRelease.value);
        const keepCrdsOnDestroy = crdsOutliveDestroy({
            createdByProgram: cluster.lifecycleOwner !== undefined,
            removeCrdsOnDestroy: mesh.removeCrdsOnDestroy,
        });
        return { config, cluster, istioNamespace: namespace.metadata.name, provideSpireRelease: spireRelease.provide, keepCrdsOnDestroy };
    });

    // Phase 2: each root is known before any cluster work, so its bundle is computed here and no
    // peer waits for another cluster's SPIRE to start.
    const trusted = clustered.map((domain) => {
        const { config, cluster } = domain;
        const parent = { parent: cluster };
        const bundleEndpoint = new SpireBundleEndpoint(
            config.name,
            {
                cluster,
                exposure: mesh.exposure,
                nodePort: mesh.nodePorts.bundleEndpoint,
                peerSourceRanges: mesh.peerSourceRanges,
            },
            parent,
        );
        const rootCa = new CertManagerRootCA(
            config.name,
            {
                cluster,
                trustDomain: config.trustDomain,
                istioNamespace: domain.istioNamespace,
                spireNamespace: bundleEndpoint.namespace,
                certificates: mesh.certificates,
                rootCaGeneration: config.rootCaGeneration,
                certManagerVersion: mesh.versions.certManager,
                chartRepository: chartRepositories.jetstack,
                suppliedRoot: suppliedRootCaOf(config),
                keepCrdsOnDestroy: domain.keepCrdsOnDestroy,
            },
            parent,
        );
        const trustBundle = rootCa.rootCertificatePem.apply((pem) => spiffeBundleJson(pem));
        return { ...domain, rootCa, bundleEndpoint, trustBundle };
    });

    // Phase 3
    const federated = trusted.map((domain) => {
        const { config, cluster } = domain;
        const spire = new SpireFederatedDomain(
            config.name,
            {
                cluster,
                trustDomain: config.trustDomain,
                clusterName: config.name,
                meshId: mesh.meshId,
                versions: mesh.versions,
                chartRepository: chartRepositories.spiffe,
                endpoint: domain.bundleEndpoint,
                issuerName: domain.rootCa.spireIssuerName,
                trustBundle: domain.trustBundle,
                peers: [
                    ...peersOf(trusted, domain).map((peer) => ({
                        trustDomain: peer.config.trustDomain,
                        trustBundle: peer.trustBundle,
                        bundleEndpointUrl: peer.bundleEndpoint.url,
                    })),
                    ...peersElsewhere.map(({ trustDomain, trustBundle, bundleEndpointUrl }) => ({ trustDomain, trustBundle, bundleEndpointUrl })),
                ],
                keepCrdsOnDestroy: domain.keepCrdsOnDestroy,
            },
            { parent: cluster },
        );
        domain.provideSpireRelease(spire.release);
        return { config, cluster, istioNamespace: domain.istioNamespace, rootCa: domain.rootCa, spire, keepCrdsOnDestroy: domain.keepCrdsOnDestroy };
    });

    // Phase 4: one primary per cluster, then the remote secrets, which need every primary's token.
    const domains: DeployedDomain[] = federated.map((domain) => {
        const { config, cluster } = domain;
        const istio = new IstioMultiPrimary(
            config.name,
            {
                cluster,
                namespace: domain.istioNamespace,
                meshId: mesh.meshId,
                network: config.network,
                trustDomain: config.trustDomain,
                peers: [
                    ...peersOf(federated, domain).map((peer) => ({
                        clusterName: peer.config.name,
                        network: peer.config.network,
                        trustDomain: peer.config.trustDomain,
                        nodeAddress: peer.cluster.nodeAddress,
                    })),
                    ...peersElsewhere.map(({ clusterName, network, trustDomain, exposure, eastWestAddress }) => ({
                        clusterName,
                        network,
                        trustDomain,
                        exposure,
                        eastWestAddress,
                    })),
                ],
                readerTrustDomains: [...peersOf(federated, domain).map((peer) => peer.config.trustDomain), ...externalReaders],
                exposure: mesh.exposure,
                nodePorts: mesh.nodePorts,
                loadBalancerSourceRanges: mesh.loadBalancerSourceRanges,
                peerSourceRanges: mesh.peerSourceRanges,
                istioVersion: mesh.versions.istio,
                chartRepository: chartRepositories.istio,
                trustReady: [domain.rootCa.istiodCertificate, ...domain.spire.ready],
                keepCrdsOnDestroy: domain.keepCrdsOnDestroy,
            },
            { parent: cluster },
        );
        return { ...domain, istio };
    });
    connectPrimaries(
        domains.map((domain) => domain.istio),
        (holderTrustDomain) => peersElsewhere.map(({ clusterName, readerKubeconfigs }) => ({ clusterName, kubeconfig: readerKubeconfigs[holderTrustDomain] })),
    );

    // Phase 5: the seed's sample workloads, once Istio serves in each cluster (pods admitted
    // before the injector would run without sidecars; the Istio CRs need their CRDs).
    if (mesh.samplesEnabled) {
        const trustDomains = [...domains.map(({ config }) => config.trustDomain), ...peersElsewhere.map((peer) => peer.trustDomain)];
        domains.forEach(({ config, cluster, istio }, domainIndex) => {
            new SampleApps(
                config.name,
                { cluster, domainIndex, trustDomains, meshReady: [istio.base, istio.istiod, istio.ingressGateway] },
                { parent: cluster },
            );
        });
    }

    const outputs: Record<string, DomainOutputs> = Object.fromEntries(
        domains.map(({ config, cluster, spire, istio }, index) => [
            config.name,
            {
                index,
                clusterName: config.name,
                trustDomain: config.trustDomain,
                network: config.network,
                apiServerUrl: cluster.apiServerUrl,
                trustBundle: spire.trustBundle,
                bundleEndpointUrl: spire.bundleEndpointUrl,
                eastWestAddress: istio.eastWestAddress,
                ingressAddress: istio.ingressAddress,
            },
        ]),
    );
    const kubeconfigs = pulumi.secret(
        pulumi
            .all(domains.map(({ cluster }) => cluster.kubeconfig))
            .apply((texts) => Object.fromEntries(texts.map((text, index) => [domains[index].config.name, text]))),
    );
    const federation = pulumi
        .all(
            domains.map(({ config, cluster, spire, istio }) =>
                pulumi.all([spire.trustBundle, spire.bundleEndpointUrl, cluster.apiServerUrl, istio.eastWestAddress]).apply(
                    ([trustBundle, bundleEndpointUrl, apiServerUrl, eastWestAddress]) => ({
                        clusterName: config.name,
                        trustDomain: config.trustDomain,
                        network: config.network,
                        trustBundle,
                        bundleEndpointUrl,
                        apiServerUrl,
                        exposure: mesh.exposure,
                        eastWestAddress,
                    }),
                ),
            ),
        )
        .apply((published) => federationContract(mesh.meshId, published));
    const federationCredentials = pulumi.secret(
        pulumi.all(
            Object.fromEntries(
                domains.map(({ config, istio }) => [
                    config.name,
                    // Only what other stacks' domains were issued: a credential of this stack's own
                    // domains, exported, would stay in the hands of a peer stack dropped later.
                    pulumi.all(
                        Object.fromEntries(
                            Object.keys(istio.readers.credentials)
                                .filter((reader) => externalReaders.includes(reader))
                                .map((reader) => [reader, readerKubeconfigOf(istio, reader)]),
                        ),
                    ),
                ]),
            ),
        ),
    );
    return { domains, outputs, kubeconfigs, federation, federationCredentials };
}
