import * as k8s from "@pulumi/kubernetes";
import * as certmanager from "@pulumi/kubernetes-cert-manager";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { X509Certificate } from "node:crypto";
import { durationHours } from "../config/durations";
import { requireSecretConfig } from "../config/load";
import { CertificateSettings, DomainConfig } from "../config/model";
import { componentReleaseName, helmReleaseType } from "../lib/certManagerComponent";
import { ChartRepositoryOpts } from "../lib/chartRepositories";
import { firstInstallTimeoutSeconds } from "../lib/helm";
import { intermediateCaEarlyRenewalHours, intermediateCaSecretLabel, rootKeyProblem } from "../lib/rootCa";
import { inCluster, MeshCluster } from "./meshCluster";

/** Namespace of cert-manager. It holds no root: ClusterIssuers, which read Secrets here, are not used. */
export const certManagerNamespaceName = "cert-manager";
/** Secret (in `istio-system`) that istiod reads as its plug-in CA. */
export const istiodCaSecretName = "cacerts";

/** Annotation that makes the Kubernetes provider wait for a custom resource's Ready condition. */
const waitForReady = { "pulumi.com/waitFor": "condition=Ready" };

/** A root CA given as PEM, its key a Pulumi secret. */
export interface RootCaMaterial {
    certificatePem: pulumi.Input<string>;
    privateKeyPem: pulumi.Output<string>;
}

/**
 * The root a domain's config supplies (certificate in config, key in the secret config key it
 * names), or undefined when the program is to generate one.
 */
export function suppliedRootCaOf(domain: DomainConfig): RootCaMaterial | undefined {
    if (!domain.rootCa) return undefined;
    const { certificatePem, privateKeyConfigKey } = domain.rootCa;
    const privateKeyPem = requireSecretConfig(privateKeyConfigKey).apply((key) => {
        assertKeyMatchesCertificate(certificatePem, key, privateKeyConfigKey);
        return key;
    });
    return { certificatePem, privateKeyPem: pulumi.secret(privateKeyPem) };
}

/**
 * Fails when a supplied key is not the certificate's. Config validation refuses that before
 * anything is declared (naming the key); this holds for callers that skip it.
 */
export function assertKeyMatchesCertificate(certificatePem: string, privateKeyPem: string, keyName: string): void {
    const problem = rootKeyProblem(certificatePem, privateKeyPem);
    if (problem) throw new pulumi.RunError(`secret config key ${keyName} does not hold the private key of the domain's root certificate: ${problem}`);
}

/** Helm release name of cert-manager; it prefixes the chart's object names (cert-manager-webhook, …). */
export const certManagerReleaseName = "cert-manager";

/**
 * Values of the Jetstack cert-manager chart that this program sets, each under the chart's own
 * path (values.yaml of the pinned chart), split the way `@pulumi/kubernetes-cert-manager` takes
 * them: `typed` through its typed arguments, `helmValues` through `helmOptions.values`. A key the
 * component has a typed argument for must go there: the component drops the same key from
 * `helmOptions.values` (lib/certManagerComponent.ts). The tests check what the chart receives
 * against its schema.
 */
export function certManagerValues(args: {
    /**
     * Leave cert-manager's CRDs in the cluster on destroy (`crdsOutliveDestroy`). Where the program
     * may remove them (keep=false), Pulumi deletes its own cert-manager resources before the
     * Release and Helm then deletes the CRDs; elsewhere Helm leaves them, and every Certificate in
     * the cluster with them.
     */
    keepCrdsOnDestroy: boolean;
}): { typed: { startupapicheck: { enabled: boolean } }; helmValues: Record<string, unknown> } {
    return {
        // The post-install startupapicheck hook is what makes the Release wait for the webhook
        // to answer; every cert-manager resource below relies on that. It is the chart's default,
        // set all the same because the ordering depends on it.
        typed: { startupapicheck: { enabled: true } },
        helmValues: {
            // `crds.enabled` is the current switch (`installCRDs`, a typed argument of the
            // component, is deprecated and the chart refuses both at once). No typed argument
            // covers `crds`.
            crds: { enabled: true, keep: args.keepCrdsOnDestroy },
        },
    };
}

/**
 * A transform for the cert-manager component that gives its child Release an alias to the plain
 * Release stacks deployed by this program's previous versions hold (`plainReleaseUrn`, the same
 * Helm release "cert-manager"), so `pulumi up` adopts that Release in place. Without it the
 * engine would install a second release "cert-manager", which Helm refuses, and delete the old
 * one, uninstalling cert-manager (with its CRDs unless kept, and so every Certificate).
 *
 * The engine runs a remote component's transforms on the children its provider registers
 * (pulumi v3.248.0 pkg/resource/deploy/source_eval.go:2179-2217, 2734), so this is the only way
 * the program can reach the child's options. The SDK hands the child's inputs back re-serialized,
 * a nested secret raised to its top-level input (sdk/nodejs/runtime/rpc.ts:848-866): with mirror
 * credentials the child's whole `repositoryOpts` is secret, the repository URL included.
 */
export function adoptPlainCertManagerRelease(args: {
    /** Name of the cert-manager component; its child Release is `<name>-helm`. */
    componentName: string;
    /** URN of the plain Release the previous program version declared. */
    plainReleaseUrn: pulumi.Input<string>;
}): pulumi.ResourceTransform {
    const childName = componentReleaseName(args.componentName);
    return (child) => {
        if (child.type !== helmReleaseType || child.name !== childName) return undefined;
        return { props: child.props, opts: { ...child.opts, aliases: [...(child.opts.aliases ?? []), args.plainReleaseUrn] } };
    };
}

/** The istiod `cacerts` Certificate's spec, from config and the issuer's name. */
export function istiodCertificateSpec(args: {
    certificates: CertificateSettings;
    issuerName: pulumi.Input<string>;
    istioNamespace: pulumi.Input<string>;
}): Record<string, unknown> {
    const istiodHost = pulumi.interpolate`istiod.${args.istioNamespace}.svc`;
    return {
        isCA: true,
        commonName: istiodHost,
        dnsNames: [istiodHost],
        duration: args.certificates.istiodCertDuration,
        renewBefore: args.certificates.istiodCertRenewBefore,
        // A fresh key on every renewal, so a rotated intermediate never reuses the old key.
        privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
        secretName: istiodCaSecretName,
        // A namespaced Issuer: only editors of istio-system can request certificates from it.
        issuerRef: { name: args.issuerName, kind: "Issuer", group: "cert-manager.io" },
    };
}

/**
 * What fixes a domain's root for one generation, as recorded in the stack's state when that
 * generation was first deployed: the settings a generated root was issued with, or the
 * fingerprint of a supplied one.
 */
export type RootCaRecord =
    | { source: "generated"; validityHours: number; commonName: string }
    | { source: "supplied"; certificateSha256: string };

/** The record for this run's config. */
export function rootCaRecordOf(args: { trustDomain: string; certificates: CertificateSettings; suppliedCertificatePem?: string }): RootCaRecord {
    if (args.suppliedCertificatePem !== undefined) {
        return { source: "supplied", certificateSha256: new X509Certificate(args.suppliedCertificatePem).fingerprint256 };
    }
    return { source: "generated", validityHours: durationHours(args.certificates.rootCaValidity), commonName: rootCommonName(args.trustDomain) };
}

function rootCommonName(trustDomain: string): string {
    return `${trustDomain} root CA`;
}

/** How this run's root config compares with the record of the deployed generation. */
export type RootCaDrift =
    | { kind: "none" }
    /** The config changed a generated root's settings; the root stays as it is. */
    | { kind: "ignored"; message: string }
    /** The config would swap the root itself (a new supplied root, or generated <-> supplied). */
    | { kind: "refused"; message: string };

/**
 * Decides what a config change of a domain's root means. A changed root breaks istiod (it refuses
 * a second root) and never reaches existing federation relationships, so it only happens through
 * an explicit `rootCaGeneration` change: anything else is ignored with a warning (a generated
 * root's settings, which the program holds at the recorded values) or refused (a supplied root's
 * certificate, which only config carries, so it cannot be held back).
 */
export function rootCaDrift(domain: string, generation: number, recorded: RootCaRecord, wanted: RootCaRecord): RootCaDrift {
    const rotate =
        `To replace the root deliberately, set domains[].rootCaGeneration of domain ${domain} to ${generation + 1} ` +
        `and follow "Rotating a domain's root CA" in the README.`;
    if (recorded.source === "generated" && wanted.source === "generated") {
        const changed: string[] = [];
        if (recorded.validityHours !== wanted.validityHours) {
            changed.push(`rootCaValidity is ${wanted.validityHours}h, but the root was issued for ${recorded.validityHours}h`);
        }
        if (recorded.commonName !== wanted.commonName) {
            changed.push(`the root's subject would be "${wanted.commonName}", but it was issued as "${recorded.commonName}"`);
        }
        if (changed.length === 0) return { kind: "none" };
        return {
            kind: "ignored",
            message: `domain ${domain}: ${changed.join("; ")}. The root of generation ${generation} is kept as issued and NOT re-issued. ${rotate}`,
        };
    }
    if (recorded.source === "supplied" && wanted.source === "supplied") {
        if (recorded.certificateSha256 === wanted.certificateSha256) return { kind: "none" };
        return {
            kind: "refused",
            message:
                `domain ${domain}: rootCa.certificatePem changed (SHA-256 ${recorded.certificateSha256} was deployed as generation ` +
                `${generation}, config now holds ${wanted.certificateSha256}). A silent root change breaks istiod and federation. ` +
                `Restore the deployed root in config, or: ${rotate}`,
        };
    }
    return {
        kind: "refused",
        message:
            `domain ${domain}: the root of generation ${generation} is ${recorded.source === "generated" ? "generated by the program" : "supplied through config"}, ` +
            `but config now asks for a ${wanted.source === "generated" ? "generated" : "supplied"} root. A silent root change breaks istiod and federation. ` +
            `Restore the previous rootCa setting, or: ${rotate}`,
    };
}

/**
 * Lifetime of each intermediate CA (hours). The intermediates are signed outside the cluster by
 * `pulumi up`, so their lifetime is how often an operator must run it; a year leaves room.
 */
export const intermediateCaValidityHours = 8760;
/**
 * Path length of each intermediate: exactly one CA below it (SPIRE's X.509 authority, or istiod's
 * `cacerts`), which signs only end-entity certificates.
 */
export const intermediateCaMaxPathLength = 1;

/** The consumers of a domain's intermediates: one intermediate (and Issuer) per consumer. */
export const intermediateCaPurposes = ["spire", "istio"] as const;
export type IntermediateCaPurpose = (typeof intermediateCaPurposes)[number];

/** Subject common name of one of a domain's intermediates: names the domain and the consumer. */
export function intermediateCommonName(trustDomain: string, purpose: IntermediateCaPurpose): string {
    return `${trustDomain} ${purpose === "spire" ? "SPIRE" : "istiod"} intermediate CA`;
}

/**
 * The `kubernetes.io/tls` Secret a namespaced CA Issuer signs with: the intermediate's certificate
 * and key, and the domain root as `ca.crt`. The root's key is not in it.
 *
 * What cert-manager v1.21.1 makes of it: the CA issuer reads `tls.crt`, `tls.key` and `ca.crt`
 * (pkg/util/kube/pki.go:94-115, `ca.crt` appended after the `tls.crt` chain), signs with the first
 * certificate (pkg/util/pki/csr.go:411-413) and orders signer, intermediate and root into one chain
 * (csr.go:418; pkg/util/pki/parse_certificate_chain.go:50-57, 152-183), so a CertificateRequest's
 * `status.certificate` is the issued certificate followed by the intermediate, without the
 * self-signed root, and `status.ca` is the root (pkg/controller/certificaterequests/ca/ca.go:130-133).
 * Without `ca.crt` the "CA" would be the intermediate itself (parse_certificate_chain.go:56 and 170-176), and
 * SPIRE would publish the intermediate as its bundle.
 */
export function intermediateIssuerSecretData(args: { intermediateCertificatePem: string; intermediatePrivateKeyPem: string; rootCertificatePem: string }): Record<string, string> {
    return {
        "tls.crt": args.intermediateCertificatePem,
        "tls.key": args.intermediatePrivateKeyPem,
        "ca.crt": args.rootCertificatePem,
    };
}

/** An intermediate CA as the engine signed it: certificate, and key (a Pulumi secret). */
interface IntermediateCa {
    certificatePem: pulumi.Output<string>;
    privateKeyPem: pulumi.Output<string>;
}

/** A namespaced CA Issuer and the Secret with the intermediate (signed by the root outside the cluster) it signs with. */
interface NamespacedIntermediateIssuer {
    secret: k8s.core.v1.Secret;
    issuer: k8s.apiextensions.CustomResource;
}

export interface CertManagerRootCAArgs {
    /** The domain's cluster: cert-manager and the CA live inside it. */
    cluster: MeshCluster;
    /** SPIFFE trust domain; names the root (each domain has its own). */
    trustDomain: string;
    /** Name of `istio-system` as an output of its Namespace, so `cacerts` is only written once it exists. */
    istioNamespace: pulumi.Input<string>;
    /**
     * Name of the SPIRE server's namespace (an output of its Namespace): SPIRE's upstream authority
     * requests its intermediate from an Issuer there, in the namespace the chart's Role covers.
     */
    spireNamespace: pulumi.Input<string>;
    /**
     * Lifetimes of the generated root and of istiod's `cacerts`. A `cacerts` change is a plain
     * `pulumi up`; a root's lifetime only takes effect with the next `rootCaGeneration`.
     */
    certificates: CertificateSettings;
    /**
     * Generation of the domain's root: the only thing that replaces it. Changing it replaces a
     * generated root's key and certificate and accepts a changed supplied root.
     */
    rootCaGeneration: number;
    /** cert-manager chart version (config may override versions.ts). */
    certManagerVersion: string;
    /** Repository of the Jetstack cert-manager chart: the public one, or a mirror from config. */
    chartRepository: ChartRepositoryOpts;
    /** A root supplied through config; the program generates one (ECDSA P-256) when undefined. */
    suppliedRoot?: RootCaMaterial;
    /** Leave cert-manager's CRDs in the cluster on destroy (`crdsOutliveDestroy`). */
    keepCrdsOnDestroy: boolean;
}

/**
 * One domain's root of trust: cert-manager itself, the domain's root CA (its key only ever in the
 * stack's state, as a Pulumi secret), and, in each of the two namespaces that need one, a
 * namespaced CA Issuer backed by an intermediate that `pulumi up` signs with the root outside the
 * cluster: SPIRE's namespace, whose UpstreamAuthority obtains SPIRE's X.509 authority from it, and
 * `istio-system`, where istiod's `cacerts` is issued. No Secret in the cluster holds the root's key.
 *
 * One intermediate per Issuer rather than per cluster: the two namespaces have different editors
 * (and istiod mounts its Secret's neighbour `cacerts`), so whoever reads one Secret can mint only
 * for that consumer, and revoking one (a new generation) leaves the other alone. The SPIFFE bundle
 * the domain publishes stays the root: every chain ends there.
 *
 * No ClusterIssuer carries the root: cert-manager approves every request to a ClusterIssuer, and
 * its `edit` role (aggregated to every namespace editor) may create Certificates, so any
 * namespace editor could obtain a CA certificate under the root.
 */
export class CertManagerRootCA extends pulumi.ComponentResource {
    /** Name of the CA Issuer in SPIRE's namespace, as an output of the issuer (waited for to be Ready). */
    readonly spireIssuerName: pulumi.Output<string>;
    /** The domain's root certificate (PEM): the X.509 authority of its SPIFFE bundle. */
    readonly rootCertificatePem: pulumi.Output<string>;
    /** The root's private key (PEM, secret): held in the stack's state only, never in a cluster. */
    readonly rootPrivateKeyPem: pulumi.Output<string>;
    /** Each consumer's intermediate certificate (PEM), signed by the root. */
    readonly intermediateCertificatePems: Record<IntermediateCaPurpose, pulumi.Output<string>>;
    /** istiod's `cacerts` Certificate; istiod must start after it is Ready. */
    readonly istiodCertificate: k8s.apiextensions.CustomResource;
    /**
     * The cert-manager installation (the component, whose provider creates the Helm release);
     * cert-manager resources wait for it (webhook answering).
     */
    readonly certManager: certmanager.CertManager;
    /** The root's record for its generation, as kept in the stack's state. */
    readonly rootRecord: pulumi.Output<RootCaRecord>;

    constructor(name: string, args: CertManagerRootCAArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("spire-istio-mesh:index:CertManagerRootCA", name, {}, opts);
        const { cluster } = args;

        const namespace = new k8s.core.v1.Namespace(
            `${name}-cert-manager`,
            { metadata: { name: certManagerNamespaceName } },
            inCluster(cluster, this),
        );

        // The `@pulumi/kubernetes-cert-manager` component, as the design names it. It is remote:
        // its provider plugin (kubernetes-cert-manager 0.2.0, which an air-gapped site mirrors
        // with the other plugins) creates one Helm Release, `<name>-helm`, from `helmOptions` and
        // the typed arguments. Everything that chart install needs is passed here: the pinned
        // version, the chart mirror (with its credentials), the namespace, the release name, the
        // timeout and the values, checked against the chart's schema in the tests.
        const componentName = `${name}-cert-manager`;
        const values = certManagerValues({ keepCrdsOnDestroy: args.keepCrdsOnDestroy });
        this.certManager = new certmanager.CertManager(
            componentName,
            {
                ...values.typed,
                helmOptions: {
                    // A fixed release name keeps the chart's object names stable (cert-manager,
                    // cert-manager-webhook); the provider would otherwise add a random suffix.
                    name: certManagerReleaseName,
                    chart: "cert-manager",
                    version: args.certManagerVersion,
                    namespace: namespace.metadata.name,
                    repositoryOpts: args.chartRepository,
                    values: values.helmValues,
                    // Controller, webhook, cainjector and startupapicheck images on first install.
                    timeout: firstInstallTimeoutSeconds,
                },
            },
            {
                parent: this,
                // `providers`, not `provider`: the Kubernetes provider is for the component's child
                // Release, which must never fall back to a default provider (whatever
                // ~/.kube/config names). The engine passes this map to the plugin's Construct.
                providers: [cluster.provider],
                // The engine gives the child Release the component's deletedWith.
                ...(cluster.lifecycleOwner ? { deletedWith: cluster.lifecycleOwner } : {}),
                transforms: [
                    adoptPlainCertManagerRelease({
                        componentName,
                        plainReleaseUrn: pulumi.createUrn(componentName, helmReleaseType, this),
                    }),
                ],
            },
        );

        this.rootRecord = this.recordedRoot(name, args);
        const root = args.suppliedRoot ?? this.generateRoot(name, args, this.rootRecord);
        // Root material waits for the record check, so a refused change never reaches a Secret.
        this.rootCertificatePem = pulumi.all([this.rootRecord, root.certificatePem]).apply(([, pem]) => pem);
        this.rootPrivateKeyPem = pulumi.secret(pulumi.all([this.rootRecord, root.privateKeyPem]).apply(([, key]) => key));

        const spireIntermediate = this.signIntermediate(name, "spire", args);
        const istioIntermediate = this.signIntermediate(name, "istio", args);
        const spire = this.namespacedIssuer(name, "spire", args.spireNamespace, spireIntermediate, args);
        const istio = this.namespacedIssuer(name, "istio", args.istioNamespace, istioIntermediate, args);
        this.spireIssuerName = spire.issuer.metadata.name;
        this.intermediateCertificatePems = { spire: spireIntermediate.certificatePem, istio: istioIntermediate.certificatePem };

        this.istiodCertificate = new k8s.apiextensions.CustomResource(
            `${name}-istiod-cacerts`,
            {
                apiVersion: "cert-manager.io/v1",
                kind: "Certificate",
                metadata: { name: istiodCaSecretName, namespace: istio.issuer.metadata.namespace, annotations: waitForReady },
                spec: istiodCertificateSpec({
                    certificates: args.certificates,
                    issuerName: istio.issuer.metadata.name,
                    istioNamespace: args.istioNamespace,
                }),
            },
            inCluster(cluster, this, { dependsOn: [this.certManager] }),
        );

        this.registerOutputs({
            spireIssuerName: this.spireIssuerName,
            rootCertificatePem: this.rootCertificatePem,
        });
    }

    /**
     * The record of the root's current generation, checked against this run's config. The record
     * lives in a Stash, which keeps the value it was created with until `rootCaGeneration` (its
     * replacement trigger) changes; a state without a trigger (stacks from before the generation
     * existed) is not replaced by the first one.
     */
    private recordedRoot(name: string, args: CertManagerRootCAArgs): pulumi.Output<RootCaRecord> {
        const wanted = pulumi
            .output(args.suppliedRoot?.certificatePem)
            .apply((pem) => rootCaRecordOf({ trustDomain: args.trustDomain, certificates: args.certificates, suppliedCertificatePem: pem }));
        const stash = new pulumi.Stash(`${name}-root-ca-record`, { input: wanted }, { parent: this, replacementTrigger: args.rootCaGeneration });
        return pulumi.all([stash.output, wanted]).apply(([recorded, current]) => {
            const drift = rootCaDrift(name, args.rootCaGeneration, recorded as RootCaRecord, current);
            // A RunError stops the program with the message alone, before any Secret takes the root.
            if (drift.kind === "refused") throw new pulumi.RunError(drift.message);
            if (drift.kind === "ignored") void pulumi.log.warn(drift.message, this);
            return recorded as RootCaRecord;
        });
    }

    /**
     * One consumer's intermediate, signed by the root here (in the engine, not in the cluster). Its
     * key and certificate carry the root's generation, so a new root brings new intermediates;
     * `intermediateCaEarlyRenewalHours` before expiry a `pulumi up` replaces them too.
     */
    private signIntermediate(name: string, purpose: IntermediateCaPurpose, args: CertManagerRootCAArgs): IntermediateCa {
        const generation = { parent: this, replacementTrigger: args.rootCaGeneration };
        const resourceName = `${name}-intermediate-ca-${purpose}`;
        const key = new tls.PrivateKey(resourceName, { algorithm: "ECDSA", ecdsaCurve: "P256" }, generation);
        const request = new tls.CertRequest(
            resourceName,
            { privateKeyPem: key.privateKeyPem, subject: { commonName: intermediateCommonName(args.trustDomain, purpose) } },
            { parent: this },
        );
        const certificate = new tls.LocallySignedCert(
            resourceName,
            {
                certRequestPem: request.certRequestPem,
                caCertPem: this.rootCertificatePem,
                caPrivateKeyPem: this.rootPrivateKeyPem,
                isCaCertificate: true,
                maxPathLength: intermediateCaMaxPathLength,
                setSubjectKeyId: true,
                validityPeriodHours: intermediateCaValidityHours,
                earlyRenewalHours: intermediateCaEarlyRenewalHours,
                allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
            },
            generation,
        );
        return { certificatePem: certificate.certPem, privateKeyPem: key.privateKeyPem };
    }

    /** A CA Issuer in the consumer's namespace, backed by the consumer's intermediate (and the root as `ca.crt`). */
    private namespacedIssuer(
        name: string,
        purpose: IntermediateCaPurpose,
        namespace: pulumi.Input<string>,
        intermediate: IntermediateCa,
        args: CertManagerRootCAArgs,
    ): NamespacedIntermediateIssuer {
        const secret = new k8s.core.v1.Secret(
            `${name}-intermediate-ca-${purpose}`,
            {
                metadata: { name: `${name}-intermediate-ca`, namespace, labels: { [intermediateCaSecretLabel]: purpose } },
                type: "kubernetes.io/tls",
                stringData: pulumi.secret(
                    pulumi
                        .all([intermediate.certificatePem, intermediate.privateKeyPem, this.rootCertificatePem])
                        .apply(([intermediateCertificatePem, intermediatePrivateKeyPem, rootCertificatePem]) =>
                            intermediateIssuerSecretData({ intermediateCertificatePem, intermediatePrivateKeyPem, rootCertificatePem }),
                        ),
                ),
            },
            inCluster(args.cluster, this),
        );
        // Issuers need cert-manager's CRDs and a webhook that answers: the Release only completes
        // once its startupapicheck hook succeeded, and the component only once its Release did
        // (the plugin's Construct returns after its child). No output carries that, hence dependsOn.
        const issuer = new k8s.apiextensions.CustomResource(
            `${name}-intermediate-ca-issuer-${purpose}`,
            {
                apiVersion: "cert-manager.io/v1",
                kind: "Issuer",
                metadata: { name: `${name}-intermediate-ca`, namespace: secret.metadata.namespace, annotations: waitForReady },
                spec: { ca: { secretName: secret.metadata.name } },
            },
            inCluster(args.cluster, this, { dependsOn: [this.certManager] }),
        );
        return { secret, issuer };
    }

    /**
     * A root generated by the program: ECDSA P-256, key only ever held as a Pulumi secret. Its
     * settings are the recorded ones, and both resources are replaced only by a new generation.
     */
    private generateRoot(name: string, args: CertManagerRootCAArgs, record: pulumi.Output<RootCaRecord>): RootCaMaterial {
        const generation = { parent: this, replacementTrigger: args.rootCaGeneration };
        const issuedAs = record.apply((recorded) => {
            if (recorded.source !== "generated") throw new pulumi.RunError(`domain ${name}: the recorded root is not a generated one`);
            return recorded;
        });
        const key = new tls.PrivateKey(`${name}-root-ca`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, generation);
        const certificate = new tls.SelfSignedCert(
            `${name}-root-ca`,
            {
                privateKeyPem: key.privateKeyPem,
                isCaCertificate: true,
                validityPeriodHours: issuedAs.validityHours,
                allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
                subject: { commonName: issuedAs.commonName },
            },
            generation,
        );
        return { certificatePem: certificate.certPem, privateKeyPem: key.privateKeyPem };
    }
}
