import * as k8s from "@pulumi/kubernetes";
import * as certmanager from "@pulumi/kubernetes-cert-manager";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { durationHours } from "../config/durations";
import { requireSecretConfig } from "../config/load";
import { CertificateSettings, DomainConfig } from "../config/model";
import { chartRepositories } from "../versions";
import { inCluster, MeshCluster } from "./meshCluster";

/** Namespace of cert-manager; also its cluster resource namespace, where ClusterIssuers read Secrets. */
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

/** Fails when a supplied key is not the certificate's: the CA issuer would only fail later, in the cluster. */
export function assertKeyMatchesCertificate(certificatePem: string, privateKeyPem: string, keyName: string): void {
    let matches = false;
    try {
        matches = createPublicKey(createPrivateKey(privateKeyPem)).equals(new X509Certificate(certificatePem).publicKey);
    } catch {
        throw new pulumi.RunError(`secret config key ${keyName} does not hold a PEM private key`);
    }
    if (!matches) {
        throw new pulumi.RunError(`secret config key ${keyName} holds a key that does not belong to the domain's root certificate`);
    }
}

/**
 * Values of the cert-manager chart that this program sets, split the way the component takes them:
 * `typed` goes through the component's typed args (which would clobber the same keys in
 * `helmValues`), `helmValues` through `helmOptions.values` (keys the typed args lack, such as `crds`).
 */
export function certManagerValues(): { typed: { startupapicheck: { enabled: boolean } }; helmValues: Record<string, unknown> } {
    return {
        // The post-install startupapicheck hook is what makes the Release wait for the webhook
        // to answer; every cert-manager resource below relies on that.
        typed: { startupapicheck: { enabled: true } },
        helmValues: {
            // `crds.enabled` is the current way (installCRDs is deprecated). keep=false: Pulumi owns
            // every cert-manager resource here and deletes them before the Release, so destroy
            // can remove the CRDs too instead of leaving them behind in an adopted cluster.
            crds: { enabled: true, keep: false },
        },
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
        issuerRef: { name: args.issuerName, kind: "ClusterIssuer", group: "cert-manager.io" },
    };
}

export interface CertManagerRootCAArgs {
    /** The domain's cluster: cert-manager and the CA live inside it. */
    cluster: MeshCluster;
    /** SPIFFE trust domain; names the root (each domain has its own). */
    trustDomain: string;
    /** Name of `istio-system` as an output of its Namespace, so `cacerts` is only written once it exists. */
    istioNamespace: pulumi.Input<string>;
    /** Lifetimes of the generated root and of istiod's `cacerts`; a change is a plain `pulumi up`. */
    certificates: CertificateSettings;
    /** cert-manager chart version (config may override versions.ts). */
    certManagerVersion: string;
    /** A root supplied through config; the program generates one (ECDSA P-256) when undefined. */
    suppliedRoot?: RootCaMaterial;
}

/**
 * One domain's root of trust in cert-manager: cert-manager itself, the domain's root CA held in a
 * `kubernetes.io/tls` Secret, a CA ClusterIssuer backed by it (SPIRE's UpstreamAuthority signs its
 * intermediate with it), and istiod's `cacerts` intermediate issued from it.
 */
export class CertManagerRootCA extends pulumi.ComponentResource {
    /** Name of the CA ClusterIssuer, as an output of the issuer (which was waited for to be Ready). */
    readonly issuerName: pulumi.Output<string>;
    /** The domain's root certificate (PEM): the X.509 authority of its SPIFFE bundle. */
    readonly rootCertificatePem: pulumi.Output<string>;
    /** The root's private key (PEM, secret). */
    readonly rootPrivateKeyPem: pulumi.Output<string>;
    /** istiod's `cacerts` Certificate; istiod must start after it is Ready. */
    readonly istiodCertificate: k8s.apiextensions.CustomResource;
    /** The cert-manager installation; cert-manager resources wait for it (webhook answering). */
    readonly certManager: certmanager.CertManager;

    constructor(name: string, args: CertManagerRootCAArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("spire-istio-mesh:index:CertManagerRootCA", name, {}, opts);
        const { cluster } = args;

        const namespace = new k8s.core.v1.Namespace(
            `${name}-cert-manager`,
            { metadata: { name: certManagerNamespaceName } },
            inCluster(cluster, this),
        );

        const values = certManagerValues();
        this.certManager = new certmanager.CertManager(
            `${name}-cert-manager`,
            {
                ...values.typed,
                helmOptions: {
                    // A fixed release name keeps the chart's object names stable (cert-manager,
                    // cert-manager-webhook); the component would otherwise add a random suffix.
                    name: "cert-manager",
                    namespace: namespace.metadata.name,
                    version: args.certManagerVersion,
                    repositoryOpts: { repo: chartRepositories.jetstack },
                    values: values.helmValues,
                },
            },
            {
                parent: this,
                // A remote component: `providers` reaches its child Release, which must never
                // fall back to a default Kubernetes provider.
                providers: [cluster.provider],
                ...(cluster.lifecycleOwner ? { deletedWith: cluster.lifecycleOwner } : {}),
            },
        );

        const root = args.suppliedRoot ?? this.generateRoot(name, args);
        this.rootCertificatePem = pulumi.output(root.certificatePem);
        this.rootPrivateKeyPem = pulumi.secret(root.privateKeyPem);

        const rootSecret = new k8s.core.v1.Secret(
            `${name}-root-ca`,
            {
                metadata: { name: `${name}-root-ca`, namespace: namespace.metadata.name },
                type: "kubernetes.io/tls",
                stringData: pulumi.secret({ "tls.crt": this.rootCertificatePem, "tls.key": this.rootPrivateKeyPem }),
            },
            inCluster(cluster, this),
        );

        // CRs need cert-manager's CRDs and a webhook that answers: the component's Release only
        // completes once its startupapicheck hook succeeded.
        const afterCertManager = { dependsOn: [this.certManager] };
        const issuer = new k8s.apiextensions.CustomResource(
            `${name}-root-ca-issuer`,
            {
                apiVersion: "cert-manager.io/v1",
                kind: "ClusterIssuer",
                metadata: { name: `${name}-root-ca`, annotations: waitForReady },
                spec: { ca: { secretName: rootSecret.metadata.name } },
            },
            inCluster(cluster, this, afterCertManager),
        );
        this.issuerName = issuer.metadata.name;

        this.istiodCertificate = new k8s.apiextensions.CustomResource(
            `${name}-istiod-cacerts`,
            {
                apiVersion: "cert-manager.io/v1",
                kind: "Certificate",
                metadata: { name: istiodCaSecretName, namespace: args.istioNamespace, annotations: waitForReady },
                spec: istiodCertificateSpec({
                    certificates: args.certificates,
                    issuerName: this.issuerName,
                    istioNamespace: args.istioNamespace,
                }),
            },
            inCluster(cluster, this, afterCertManager),
        );

        this.registerOutputs({
            issuerName: this.issuerName,
            rootCertificatePem: this.rootCertificatePem,
        });
    }

    /** A root generated by the program: ECDSA P-256, key only ever held as a Pulumi secret. */
    private generateRoot(name: string, args: CertManagerRootCAArgs): RootCaMaterial {
        const key = new tls.PrivateKey(`${name}-root-ca`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
        const certificate = new tls.SelfSignedCert(
            `${name}-root-ca`,
            {
                privateKeyPem: key.privateKeyPem,
                isCaCertificate: true,
                validityPeriodHours: durationHours(args.certificates.rootCaValidity),
                allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
                subject: { commonName: `${args.trustDomain} root CA` },
            },
            { parent: this },
        );
        return { certificatePem: certificate.certPem, privateKeyPem: key.privateKeyPem };
    }
}
