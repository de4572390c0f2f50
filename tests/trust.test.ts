import { dropKeepPolicyPostRenderer } from "../lib/helm";
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { loadMeshConfig } from "../config/load";
import { configKeys } from "../config/keys";
import { parseSpiffeBundle } from "../lib/spiffeBundle";
import { deployMesh } from "../mesh";
import { httpsUrl, loadBalancerHost } from "../components/spireBundleEndpoint";
import { federatedTrustDomainObjectName } from "../components/spireFederatedDomain";
import { chartRepositories, defaultVersions } from "../versions";
import { basicConstraintsOf, createTestRootCa } from "./harness/certificates";
import { PriorStash } from "./harness/mocks";
import { DeclaredResource, isSecretOutput, ProgramRun, resolve, runProgram, RunOptions } from "./harness/program";
import { runTransformsOn, wireSecret } from "./harness/transforms";
import { helmValuesTheComponentOverrides, valuesTheComponentReleases } from "../lib/certManagerComponent";
import {
    KubernetesObject,
    kubernetesObjectsOf,
    unknownHelmValuePaths,
    validateChartValuesSchema,
    validateKubernetesObject,
} from "./harness/schemas";
import { expectedDeletedWith } from "./harness/lifecycle";
import { evaluatePolicies, fromDeclared } from "../policy-pack/evaluate";
import { definition as rootIssuerPolicy } from "../policy-pack/policies/noRootCaClusterIssuer";
import { projectConfigOf, StackName, stackNames, withThirdDomain } from "./harness/stacks";

const program = () => deployMesh(loadMeshConfig());
/** The label the policy pack recognises root Secrets by; the program must use it. */
const rootSecretLabelDefault = rootIssuerPolicy.config.rootSecretLabel.default;
type Run = ProgramRun<ReturnType<typeof program>>;

const release = "kubernetes:helm.sh/v3:Release";
const customResource = (kind: string) => `kubernetes:${kind.includes("SPIFFE") || kind.includes("Federated") ? "spire.spiffe.io/v1alpha1" : "cert-manager.io/v1"}:${kind}`;
const cftdType = customResource("ClusterFederatedTrustDomain");
const spiffeIdType = customResource("ClusterSPIFFEID");
const issuerType = customResource("Issuer");
const clusterIssuerType = customResource("ClusterIssuer");
const certificateType = customResource("Certificate");
/** The type @pulumi/kubernetes-cert-manager 0.2.0 registers its component as (provider/pkg/provider/provider.go:26-29). */
const certManagerType = "kubernetes-cert-manager:index:CertManager";
const trustComponents = new Set([
    "spire-istio-mesh:index:CertManagerRootCA",
    "spire-istio-mesh:index:SpireBundleEndpoint",
    "spire-istio-mesh:index:SpireFederatedDomain",
]);

/** The domain (cluster) a Kubernetes resource lives in: its provider is named after the domain. */
function domainOf(resource: DeclaredResource): string {
    const provider = resource.provider || resource.providers.kubernetes || "";
    return provider.split("::").pop() ?? "";
}

function inDomain(resources: DeclaredResource[], domain: string): DeclaredResource[] {
    return resources.filter((r) => domainOf(r) === domain);
}

/** Resources declared by this components (directly or below them). */
function trustResources(run: Run): DeclaredResource[] {
    return run.resources.filter((r) => run.ancestors(r).some((a) => trustComponents.has(a.type)));
}

function onlyOne<T>(items: T[], what: string): T {
    if (items.length !== 1) throw new Error(`expected one ${what}, found ${items.length}`);
    return items[0];
}

/** The domain's cert-manager component (a remote component: its Kubernetes provider is in `providers`). */
function certManagerOf(run: Run, domain: string): DeclaredResource {
    return onlyOne(inDomain(run.ofType(certManagerType), domain), `cert-manager component in ${domain}`);
}

/** Hand-decoded DER of a PEM certificate, to compare bytes without trusting the code's parser. */
function derOfPem(pem: string): Buffer {
    return Buffer.from(pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, ""), "base64");
}

/** The domain's CA Issuer in a namespace. */
function issuerIn(run: Run, domain: string, namespace: string): DeclaredResource {
    return onlyOne(
        inDomain(run.ofType(issuerType), domain).filter((i) => i.inputs.metadata.namespace === namespace),
        `Issuer in ${domain}/${namespace}`,
    );
}

/**
 * What cert-manager signs with in a namespace: the Secret the CA Issuer in `namespace` (by default
 * SPIRE's) names, which a namespaced Issuer reads from its own namespace.
 */
function issuerSecretOf(run: Run, domain: string, namespace = "spire-server"): DeclaredResource {
    const issuer = issuerIn(run, domain, namespace);
    return onlyOne(
        inDomain(run.ofType("kubernetes:core/v1:Secret"), domain).filter(
            (s) => s.inputs.metadata.name === issuer.inputs.spec.ca.secretName && s.inputs.metadata.namespace === namespace,
        ),
        `Issuer Secret in ${domain}/${namespace}`,
    );
}

/** The domain's root certificate and key as the program holds them (in the stack's state only). */
async function rootOf(run: Run, domain: string): Promise<{ certificatePem: string; privateKeyPem: string }> {
    const deployed = run.result.domains.find((d) => d.config.name === domain)!;
    return { certificatePem: await resolve(deployed.rootCa.rootCertificatePem), privateKeyPem: await resolve(deployed.rootCa.rootPrivateKeyPem) };
}

/** Every private key (as SPKI of its public half) found in any value of any Secret of the run. */
function secretKeysInClusters(run: Run): { secret: string; publicKeyDer: Buffer }[] {
    const found: { secret: string; publicKeyDer: Buffer }[] = [];
    for (const secret of run.ofType("kubernetes:core/v1:Secret")) {
        const values = [...Object.values(secret.inputs.stringData ?? {}), ...Object.values(secret.inputs.data ?? {}).map((v) => Buffer.from(String(v), "base64").toString("utf8"))];
        for (const value of values) {
            for (const block of String(value).match(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/g) ?? []) {
                found.push({ secret: secret.urn, publicKeyDer: createPublicKey(createPrivateKey(block)).export({ format: "der", type: "spki" }) });
            }
        }
    }
    return found;
}

const configs: { label: string; stack: StackName; options: RunOptions }[] = stackNames.flatMap((stack) => [
    { label: `${stack}`, stack, options: { stack } },
    { label: `${stack} with three domains`, stack, options: { stack, projectConfig: withThirdDomain(stack) } },
]);

const runs = new Map<string, Promise<Run>>();
/** One run per config, shared by the read-only tests below. */
function runOf(label: string, options: RunOptions): Promise<Run> {
    if (!runs.has(label)) runs.set(label, runProgram(program, options));
    return runs.get(label)!;
}

function domainNamesOf(options: RunOptions): { name: string; trustDomain: string }[] {
    const config = options.projectConfig ?? projectConfigOf(options.stack);
    return (config.domains as { name: string; trustDomain: string }[]).map(({ name, trustDomain }) => ({ name, trustDomain }));
}

describe.each(configs)("$label", ({ stack, options, label }) => {
    const domains = domainNamesOf(options);

    it("sets only Helm values that exist in the upstream charts, with the domain's settings", async () => {
        const run = await runOf(label, options);
        for (const { name, trustDomain } of domains) {
            const releases = inDomain(run.ofType(release), name);
            const spire = onlyOne(releases.filter((r) => r.inputs.chart === "spire"), "spire release");
            const crds = onlyOne(releases.filter((r) => r.inputs.chart === "spire-crds"), "spire-crds release");
            expect(unknownHelmValuePaths("spire", spire.inputs.values)).toEqual([]);
            expect(unknownHelmValuePaths("spire-crds", crds.inputs.values)).toEqual([]);

            for (const [r, version] of [
                [spire, defaultVersions.spireChart],
                [crds, defaultVersions.spireCrdsChart],
            ] as const) {
                expect(r.inputs.version).toBe(version);
                expect(r.inputs.repositoryOpts).toEqual({ repo: chartRepositories.spiffe });
            }
            // CRDs first, in the SPIRE namespace the program created with the agent's PSS level.
            expect(spire.dependsOn).toContain(crds.urn);
            const namespace = onlyOne(
                inDomain(run.ofType("kubernetes:core/v1:Namespace"), name).filter((n) => n.inputs.metadata.name === spire.inputs.namespace),
                "SPIRE namespace",
            );
            expect(namespace.inputs.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");
            expect(crds.inputs.namespace).toBe(spire.inputs.namespace);

            const values = spire.inputs.values;
            expect(values.global.spire).toMatchObject({ trustDomain, clusterName: name });
            // The plugin asks in the release namespace (the chart's default), where the Issuer is.
            const issuer = issuerIn(run, name, spire.inputs.namespace);
            expect(values["spire-server"].upstreamAuthority.certManager).toEqual({
                enabled: true,
                issuerName: issuer.inputs.metadata.name,
                issuerKind: "Issuer",
                issuerGroup: "cert-manager.io",
            });
            expect(values["spire-server"].federation).toMatchObject({ enabled: true, bundleEndpoint: { port: 8443 }, tls: { spire: { enabled: true } } });
            expect(values["spire-server"].controllerManager.enabled).toBe(true);
            expect(values["spire-server"].controllerManager.identities.clusterSPIFFEIDs).toEqual({
                default: { enabled: false },
                "oidc-discovery-provider": { enabled: false },
                "test-keys": { enabled: false },
            });
            expect(values["spire-agent"].sds).toEqual({
                enabled: true,
                defaultSVIDName: "default",
                defaultBundleName: "null",
                defaultAllBundlesName: "ROOTCA",
            });
            expect(values["spiffe-csi-driver"].enabled).toBe(true);
            expect(values["spiffe-oidc-discovery-provider"].enabled).toBe(false);
            // The bundles handed to peers announce the same refresh interval the endpoint serves.
            const ownBundle = parseSpiffeBundle(await resolve(run.result.outputs[name].trustBundle));
            expect(values["spire-server"].federation.bundleEndpoint.refreshHint).toBe(`${ownBundle.refreshHintSeconds}s`);

            // The chart's CRDs would otherwise outlive destroy (helm.sh/resource-policy: keep): the
            // post-renderer drops the annotation from what Helm stores (tests/helmPostRender.test.ts).
            expect(crds.inputs.postrender).toBe(dropKeepPolicyPostRenderer);

            const certManager = certManagerOf(run, name);
            const { helmOptions, ...typed } = certManager.inputs;
            // What the chart receives: helmOptions.values with the component's typed arguments
            // merged over it (lib/certManagerComponent.ts models helmbase v0.2.0 InitDefaults).
            const sent = valuesTheComponentReleases({ typed, helmValues: helmOptions.values });
            expect(unknownHelmValuePaths("cert-manager", sent)).toEqual([]);
            expect(validateChartValuesSchema("cert-manager", sent)).toEqual([]);
            // Nothing in helmOptions.values that the component would drop or replace.
            expect(helmValuesTheComponentOverrides(helmOptions.values)).toEqual([]);
            // CRDs through the current switch only: the chart fails when the deprecated installCRDs
            // is set along with crds.enabled, or with crds.keep=false.
            expect(helmOptions.values.crds).toEqual({ enabled: true, keep: false });
            expect(typed.installCRDs).toBeUndefined();
            // The hook the Issuers' ordering relies on, through the typed argument that carries it.
            expect(typed.startupapicheck).toEqual({ enabled: true });
            // Nothing else reaches the chart.
            expect(sent).toEqual({ crds: { enabled: true, keep: false }, startupapicheck: { enabled: true } });
            expect(helmOptions).toMatchObject({
                name: "cert-manager",
                chart: "cert-manager",
                namespace: "cert-manager",
                version: defaultVersions.certManager,
                repositoryOpts: { repo: chartRepositories.jetstack },
            });
            // The chart comes from the repository alone, never a chart path or URL of its own.
            expect(Object.keys(helmOptions.repositoryOpts)).toEqual(["repo"]);
            const namespaces = inDomain(run.ofType("kubernetes:core/v1:Namespace"), name).map((n) => n.inputs.metadata.name);
            expect(namespaces).toContain("cert-manager");
        }
    });

    it("declares only objects that validate against the Kubernetes and upstream CRD schemas", async () => {
        const run = await runOf(label, options);
        const mine = new Set(trustResources(run).map((r) => r.urn));
        const objects = kubernetesObjectsOf(run).filter(({ resource }) => mine.has(resource.urn));
        for (const { resource, object } of objects) {
            expect(validateKubernetesObject(object), `${resource.type} ${resource.name}`).toEqual([]);
        }
        const kinds = new Set(objects.map(({ object }) => object.kind));
        for (const kind of ["ClusterFederatedTrustDomain", "ClusterSPIFFEID", "Certificate", "Issuer", "Service", "Secret", "Namespace"]) {
            expect(kinds, kind).toContain(kind);
        }
    });

    it("federates each domain with every other and only with them", async () => {
        const run = await runOf(label, options);
        for (const { name, trustDomain } of domains) {
            const peers = domains.filter((d) => d.name !== name);
            const spire = onlyOne(inDomain(run.ofType(release), name).filter((r) => r.inputs.chart === "spire"), "spire release");
            // The class the chart's controller manager watches: <release namespace>-<release name>.
            const className = `${spire.inputs.namespace}-${spire.inputs.name}`;
            const federations = inDomain(run.ofType(cftdType), name);
            expect(federations.map((f) => f.inputs.spec.trustDomain).sort()).toEqual(peers.map((p) => p.trustDomain).sort());
            expect(federations.map((f) => f.inputs.spec.trustDomain)).not.toContain(trustDomain);

            for (const federation of federations) {
                const peer = peers.find((p) => p.trustDomain === federation.inputs.spec.trustDomain)!;
                const spec = federation.inputs.spec;
                expect(spec.className).toBe(className);
                expect(spec.bundleEndpointProfile).toEqual({ type: "https_spiffe", endpointSPIFFEID: `spiffe://${peer.trustDomain}/spire/server` });
                expect(federation.dependsOn).toContain(spire.urn);

                // The imported bundle's authority is, byte for byte, the root the peer's CA issuer uses.
                const bundle = parseSpiffeBundle(spec.trustDomainBundle);
                expect(bundle.x509Authorities).toHaveLength(1);
                const peerRootPem = (await rootOf(run, peer.name)).certificatePem;
                expect(bundle.x509Authorities[0].raw.equals(derOfPem(peerRootPem))).toBe(true);
                expect(bundle.x509Authorities[0].subject).toBe(`CN=${peer.trustDomain} root CA`);
                expect(spec.trustDomainBundle).toBe(await resolve(run.result.outputs[peer.name].trustBundle));

                // The URL is the peer's own endpoint, as its Service was exposed.
                const peerDomain = run.result.domains.find((d) => d.config.name === peer.name)!;
                const expectedHost =
                    stack === "cluster-kind"
                        ? `${await resolve(peerDomain.cluster.nodeAddress!)}:${configKeys.bundleEndpointNodePort.default}`
                        : `${(await resolve(peerDomain.spire.endpoint.service.status)).loadBalancer.ingress[0].ip}:8443`;
                expect(spec.bundleEndpointURL).toBe(`https://${expectedHost}`);
                expect(spec.bundleEndpointURL).toBe(await resolve(run.result.outputs[peer.name].bundleEndpointUrl));
            }

            const workloads = onlyOne(inDomain(run.ofType(spiffeIdType), name), "ClusterSPIFFEID");
            expect(workloads.inputs.spec).toEqual({
                className,
                spiffeIDTemplate: "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}",
                // Istio labels every injected pod (gateways included) with its canonical name.
                podSelector: { matchExpressions: [{ key: "service.istio.io/canonical-name", operator: "Exists" }] },
                federatesWith: peers.map((p) => p.trustDomain).sort(),
            });
            // SPIRE rejects an entry federating with a domain it has no bundle for: bundles first.
            for (const federation of federations) expect(workloads.dependsOn).toContain(federation.urn);
            expect(workloads.dependsOn).toContain(spire.urn);
        }
        // Every domain has its own root.
        const roots = await Promise.all(domains.map(async ({ name }) => (await rootOf(run, name)).certificatePem));
        expect(new Set(roots).size).toBe(domains.length);
    });

    it("exposes exactly port 8443 of the SPIRE server, by the exposure mode's Service type", async () => {
        const run = await runOf(label, options);
        for (const { name } of domains) {
            const spire = onlyOne(inDomain(run.ofType(release), name).filter((r) => r.inputs.chart === "spire"), "spire release");
            const services = trustResources(run).filter((r) => r.type === "kubernetes:core/v1:Service" && domainOf(r) === name);
            const service = onlyOne(services, "bundle endpoint Service");
            const spec = service.inputs.spec;
            expect(spec.ports.map((p: { port: number }) => p.port)).toEqual([8443]);
            // The server container names its bundle endpoint port "federation"; gRPC (8081) is never exposed.
            expect(spec.ports[0].targetPort).toBe("federation");
            expect(spec.selector).toEqual({
                "app.kubernetes.io/name": "server",
                "app.kubernetes.io/instance": spire.inputs.name,
                "app.kubernetes.io/component": "server",
            });
            expect(service.inputs.metadata.namespace).toBe(spire.inputs.namespace);
            if (stack === "cluster-kind") {
                expect(spec.type).toBe("NodePort");
                expect(spec.ports[0].nodePort).toBe(configKeys.bundleEndpointNodePort.default);
                // Nothing serves before the chart: waiting for ready pods would hold the URL back.
                expect(service.inputs.metadata.annotations["pulumi.com/skipAwait"]).toBe("true");
            } else {
                expect(spec.type).toBe("LoadBalancer");
                expect(spec.ports[0].nodePort).toBeUndefined();
                expect(spec.loadBalancerSourceRanges).toBeUndefined();
                expect(service.inputs.metadata.annotations["pulumi.com/waitFor"]).toBe("jsonpath={.status.loadBalancer.ingress[0]}");
            }
            const url = await resolve(run.result.outputs[name].bundleEndpointUrl);
            // One host, one port: never the seed's https://IP:8443:8443.
            expect(url).toMatch(/^https:\/\/[0-9.]+:\d+$/);
        }
        // Each domain's endpoint is distinct.
        const urls = await Promise.all(domains.map(({ name }) => resolve(run.result.outputs[name].bundleEndpointUrl)));
        expect(new Set(urls).size).toBe(domains.length);
    });

    it("adopts, through the component's child Release, the plain Release that stacks of the previous version hold", async () => {
        const run = await runOf(label, options);
        for (const { name } of domains) {
            const rootCa = run.one("spire-istio-mesh:index:CertManagerRootCA", name);
            const certManager = certManagerOf(run, name);
            expect(certManager.parent).toBe(rootCa.urn);
            expect(certManager.name).toBe(`${name}-cert-manager`);
            // The previous version declared a plain Release named like the component, under our
            // component. URN layout: parent types joined by `$`, then `::name`.
            const typesOf = (urn: string) => urn.split("::")[2];
            const stackPrefix = rootCa.urn.split("::").slice(0, 2).join("::");
            const plainRelease = `${stackPrefix}::${typesOf(rootCa.urn)}$${release}::${name}-cert-manager`;
            // The component itself is new and takes nothing over.
            expect(certManager.aliasUrns).toEqual([]);
            // Its child, as the plugin registers it (helmbase base.go:155: `<name>-helm`, parent the
            // component), goes through the component's transforms in the engine.
            const provider = `${certManager.providers.kubernetes}::provider-id`;
            // A mirror password travels as a secret (the SDK's wire form of one).
            const secretPassword = wireSecret("pw");
            const child = {
                type: release,
                name: `${name}-cert-manager-helm`,
                custom: true,
                parent: certManager.urn,
                props: { chart: "cert-manager", name: "cert-manager", namespace: "cert-manager", repositoryOpts: { repo: "https://m.example", password: secretPassword } },
                provider,
                deletedWith: "urn:pulumi:s::p::command:local:Command::cluster-1-kind",
            };
            const transformed = await runTransformsOn(certManager, child);
            expect(transformed.aliasUrns).toEqual([plainRelease]);
            expect(transformed.aliasSpecs).toEqual([]);
            // Nothing else about the child changes: same cluster provider, deletedWith and inputs.
            // The password stays secret; the SDK's callback raises a nested secret to the whole
            // top-level input (sdk/nodejs/runtime/rpc.ts:848-866 at v3.248.0), so all of
            // repositoryOpts becomes secret: more secret, never less.
            expect(transformed.provider).toBe(provider);
            expect(transformed.deletedWith).toBe(child.deletedWith);
            expect(transformed.props).toEqual({ ...child.props, repositoryOpts: wireSecret({ repo: "https://m.example", password: "pw" }) });
            // Only that Release: anything else under the component keeps its own identity.
            for (const other of [
                { ...child, name: `${name}-other` },
                { ...child, type: "kubernetes:core/v1:ConfigMap" },
                { ...child, type: certManagerType, name: certManager.name, custom: false, parent: rootCa.urn },
            ]) {
                expect((await runTransformsOn(certManager, other)).aliasUrns, `${other.type} ${other.name}`).toEqual([]);
            }
        }
    });

    it("creates cert-manager resources only after cert-manager answers, and the root CA they rest on", async () => {
        const run = await runOf(label, options);
        for (const { name, trustDomain } of domains) {
            const certManager = certManagerOf(run, name);
            for (const resource of [...inDomain(run.ofType(issuerType), name), onlyOne(inDomain(run.ofType(certificateType), name), "Certificate")]) {
                expect(resource.dependsOn, `${resource.type} ${resource.name}`).toContain(certManager.urn);
                expect(resource.inputs.metadata.annotations["pulumi.com/waitFor"]).toBe("condition=Ready");
            }
            const key = onlyOne(run.ofType("tls:index/privateKey:PrivateKey").filter((k) => k.name === `${name}-root-ca`), "root key");
            expect(key.inputs).toEqual({ algorithm: "ECDSA", ecdsaCurve: "P256" });
            const selfSigned = onlyOne(
                run.ofType("tls:index/selfSignedCert:SelfSignedCert").filter((k) => k.name === `${name}-root-ca`),
                "root certificate",
            );
            expect(selfSigned.inputs).toMatchObject({
                isCaCertificate: true,
                validityPeriodHours: 87600,
                subject: { commonName: `${trustDomain} root CA` },
            });
            expect([...selfSigned.inputs.allowedUses].sort()).toEqual(["cert_signing", "crl_signing", "digital_signature"]);
        }
    });

    it("backs each CA Issuer with an intermediate the root signed outside the cluster; no Secret holds the root's key", async () => {
        const run = await runOf(label, options);
        for (const { name, trustDomain } of domains) {
            const root = await rootOf(run, name);
            const rootCertificate = new X509Certificate(root.certificatePem);
            const intermediateKeys = new Set<string>();
            for (const [namespace, consumer] of [["spire-server", "SPIRE"], ["istio-system", "istiod"]] as const) {
                const secret = issuerSecretOf(run, name, namespace);
                expect(secret.inputs.type).toBe("kubernetes.io/tls");
                const data = secret.inputs.stringData as Record<string, string>;
                expect(Object.keys(data).sort()).toEqual(["ca.crt", "tls.crt", "tls.key"]);
                // cert-manager's CA issuer takes ca.crt as the chain's top: it becomes status.ca,
                // which SPIRE publishes as its upstream root; the root alone, never the intermediate.
                expect(data["ca.crt"]).toBe(root.certificatePem);
                const intermediate = new X509Certificate(data["tls.crt"]);
                expect(intermediate.ca).toBe(true);
                expect(intermediate.subject).toBe(`CN=${trustDomain} ${consumer} intermediate CA`);
                expect(intermediate.issuer).toBe(rootCertificate.subject);
                expect(intermediate.verify(rootCertificate.publicKey)).toBe(true);
                expect(intermediate.checkIssued(rootCertificate)).toBe(true);
                // One CA below it (SPIRE's authority or istiod's cacerts), which signs only leaves.
                expect(basicConstraintsOf(data["tls.crt"])).toEqual({ ca: true, pathLength: 1 });
                expect(createPublicKey(createPrivateKey(data["tls.key"])).equals(intermediate.publicKey)).toBe(true);
                expect(intermediate.publicKey.equals(rootCertificate.publicKey)).toBe(false);
                intermediateKeys.add(intermediate.publicKey.export({ format: "der", type: "spki" }).toString("hex"));
                expect(secret.secretInputPaths.some((path) => path === "stringData" || path.startsWith("stringData."))).toBe(true);
                expect(secret.inputs.metadata.labels).toEqual({ "spire-istio-mesh/intermediate-ca": namespace === "istio-system" ? "istio" : "spire" });
            }
            // One intermediate per Issuer: a reader of one namespace's Secret can sign for that consumer only.
            expect(intermediateKeys.size).toBe(2);

            const certificates = run.ofType("tls:index/locallySignedCert:LocallySignedCert").filter((c) => c.parent === run.one("spire-istio-mesh:index:CertManagerRootCA", name).urn);
            expect(certificates).toHaveLength(2);
            for (const certificate of certificates) {
                expect(certificate.inputs).toMatchObject({ isCaCertificate: true, maxPathLength: 1, validityPeriodHours: 8760, earlyRenewalHours: 2880 });
                expect([...certificate.inputs.allowedUses].sort()).toEqual(["cert_signing", "crl_signing", "digital_signature"]);
                expect(certificate.secretInputPaths).toContain("caPrivateKeyPem");
            }
        }
        // The root's key is in no Secret of any cluster.
        const rootKeys = await Promise.all(
            domains.map(async ({ name }) => createPublicKey(createPrivateKey((await rootOf(run, name)).privateKeyPem)).export({ format: "der", type: "spki" })),
        );
        const leaked = secretKeysInClusters(run).filter((found) => rootKeys.some((key) => key.equals(found.publicKeyDer)));
        expect(leaked.map((found) => found.secret)).toEqual([]);
        expect(secretKeysInClusters(run).length).toBeGreaterThanOrEqual(2 * domains.length);
    });

    it("issues istiod's cacerts from the domain's issuer with the config's lifetimes", async () => {
        const run = await runOf(label, options);
        for (const { name } of domains) {
            const certificate = onlyOne(inDomain(run.ofType(certificateType), name), "Certificate");
            // A Certificate can only name an Issuer of its own namespace.
            const issuer = issuerIn(run, name, "istio-system");
            const istioNamespace = inDomain(run.ofType("kubernetes:core/v1:Namespace"), name).find(
                (n) => n.inputs.metadata.name === "istio-system",
            );
            expect(istioNamespace).toBeDefined();
            expect(certificate.inputs.metadata).toMatchObject({ name: "cacerts", namespace: "istio-system" });
            expect(certificate.inputs.spec).toEqual({
                isCA: true,
                commonName: "istiod.istio-system.svc",
                dnsNames: ["istiod.istio-system.svc"],
                duration: configKeys.istiodCertDuration.default,
                renewBefore: configKeys.istiodCertRenewBefore.default,
                privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
                secretName: "cacerts",
                issuerRef: { name: issuer.inputs.metadata.name, kind: "Issuer", group: "cert-manager.io" },
            });
        }
        expect(configKeys.istiodCertDuration.default).toBe("1440h");
    });

    it("keeps CA Issuers namespaced where they are used, never a ClusterIssuer", async () => {
        const run = await runOf(label, options);
        // cert-manager approves every request to a ClusterIssuer and lets any namespace editor
        // create Certificates: a CA ClusterIssuer on the root would hand out intermediates.
        expect(run.ofType(clusterIssuerType)).toEqual([]);
        for (const { name } of domains) {
            const spire = onlyOne(inDomain(run.ofType(release), name).filter((r) => r.inputs.chart === "spire"), "spire release");
            const issuers = inDomain(run.ofType(issuerType), name);
            expect(issuers.map((i) => i.inputs.metadata.namespace).sort()).toEqual([spire.inputs.namespace, "istio-system"].sort());
            // Each Issuer names its own Secret, in its own namespace; none of them is a root Secret.
            for (const issuer of issuers) {
                const secret = issuerSecretOf(run, name, issuer.inputs.metadata.namespace);
                expect(secret.inputs.metadata.labels[rootSecretLabelDefault]).toBeUndefined();
            }
        }
        // No Secret the program writes carries the root label: there is no root in any cluster.
        expect(run.ofType("kubernetes:core/v1:Secret").filter((s) => s.inputs.metadata?.labels?.[rootSecretLabelDefault] !== undefined)).toEqual([]);
        // The policy that refuses a CA ClusterIssuer on a root finds nothing here...
        const rootPolicy = { "no-root-ca-cluster-issuer": { enforcementLevel: "mandatory" as const } };
        const findings = evaluatePolicies(run.resources.map(fromDeclared), rootPolicy).filter((v) => v.policy === "no-root-ca-cluster-issuer");
        expect(findings).toEqual([]);
        // ...and would catch a root copied (labelled, as older versions of the program wrote it) to
        // cert-manager's namespace behind a ClusterIssuer.
        const rootSecret = issuerSecretOf(run, domains[0].name);
        const copied = {
            ...rootSecret,
            urn: `${rootSecret.urn}-copy`,
            inputs: { ...rootSecret.inputs, metadata: { ...rootSecret.inputs.metadata, namespace: "cert-manager", labels: { [rootSecretLabelDefault]: "true" } } },
        };
        const clusterIssuer = {
            ...rootSecret,
            type: clusterIssuerType,
            urn: `${rootSecret.urn}-cluster-issuer`,
            inputs: { apiVersion: "cert-manager.io/v1", kind: "ClusterIssuer", metadata: { name: "root" }, spec: { ca: { secretName: rootSecret.inputs.metadata.name } } },
        };
        const caught = evaluatePolicies([...run.resources, copied, clusterIssuer].map(fromDeclared), rootPolicy).filter(
            (v) => v.policy === "no-root-ca-cluster-issuer",
        );
        expect(caught.map((v) => v.urn)).toEqual([clusterIssuer.urn]);
    });

    it("gives every release that pulls images on first install more than the provider's default 300 s", async () => {
        const run = await runOf(label, options);
        // pulumi-kubernetes provider/pkg/provider/helm_release.go: defaultTimeoutSeconds = 300.
        const providerDefault = 300;
        for (const { name } of domains) {
            const releases = inDomain(run.ofType(release), name);
            for (const chart of ["spire", "istiod", "gateway"]) {
                const ofChart = releases.filter((r) => r.inputs.chart === chart);
                expect(ofChart.length, chart).toBeGreaterThan(0);
                for (const r of ofChart) expect(r.inputs.timeout, `${r.name}`).toBeGreaterThan(providerDefault);
            }
            const certManager = certManagerOf(run, name);
            expect(certManager.inputs.helmOptions.timeout).toBeGreaterThan(providerDefault);
            // One setting for all of them.
            const timeouts = new Set([...releases.map((r) => r.inputs.timeout), certManager.inputs.helmOptions.timeout].filter((t) => t !== undefined));
            expect(timeouts.size).toBe(1);
        }
    });

    it("keeps root and intermediate keys and kubeconfigs secret", async () => {
        const run = await runOf(label, options);
        for (const { name } of domains) {
            for (const namespace of ["spire-server", "istio-system"]) {
                const secret = issuerSecretOf(run, name, namespace);
                expect(secret.secretInputPaths.some((path) => path === "stringData" || path.startsWith("stringData.")), namespace).toBe(true);
            }
            const key = onlyOne(run.ofType("tls:index/privateKey:PrivateKey").filter((k) => k.name === `${name}-root-ca`), "root key");
            expect(key.additionalSecretOutputs).toEqual(expect.arrayContaining(["privateKeyPem", "privateKeyPemPkcs8"]));
            for (const purpose of ["spire", "istio"]) {
                const intermediateKey = onlyOne(run.ofType("tls:index/privateKey:PrivateKey").filter((k) => k.name === `${name}-intermediate-ca-${purpose}`), "intermediate key");
                expect(intermediateKey.additionalSecretOutputs).toEqual(expect.arrayContaining(["privateKeyPem", "privateKeyPemPkcs8"]));
            }
        }
        for (const domain of run.result.domains) {
            expect(await isSecretOutput(domain.rootCa.rootPrivateKeyPem)).toBe(true);
            expect(await isSecretOutput(domain.cluster.kubeconfig)).toBe(true);
        }
        expect(await isSecretOutput(run.result.kubeconfigs)).toBe(true);
    });

    it("puts every object on its cluster's provider and deletes it with a created cluster", async () => {
        const run = await runOf(label, options);
        const mine = trustResources(run).filter((r) => r.type.startsWith("kubernetes:"));
        expect(mine.length).toBeGreaterThan(0);
        for (const resource of mine) {
            const name = domainOf(resource);
            expect(domains.map((d) => d.name), `${resource.type} ${resource.name}`).toContain(name);
            expect(resource.deletedWith, `${resource.type} ${resource.name}`).toBe(expectedDeletedWith(run, stack, name, resource));
            // Resources sit under the component of the same domain as their provider.
            expect(run.ancestors(resource).some((a) => trustComponents.has(a.type) && a.name === name)).toBe(true);
        }
        // The one remote component, cert-manager's: its child Release gets the cluster's provider
        // through `providers` (the engine hands the map to the plugin's Construct), never a default
        // one, and the component's deletedWith, which the engine passes on to the child.
        expect(run.resources.filter((r) => r.remote).map((r) => r.type)).toEqual(domains.map(() => certManagerType));
        for (const { name } of domains) {
            const certManager = certManagerOf(run, name);
            expect(certManager.providers).toEqual({ kubernetes: run.one("pulumi:providers:kubernetes", name).urn });
            expect(certManager.deletedWith).toBe(expectedDeletedWith(run, stack, name, certManager));
        }
    });

    it("publishes each domain's trust domain, bundle and endpoint as stack outputs", async () => {
        const run = await runOf(label, options);
        expect(Object.keys(run.result.outputs).sort()).toEqual(domains.map((d) => d.name).sort());
        for (const { name, trustDomain } of domains) {
            const outputs = run.result.outputs[name];
            expect(outputs.trustDomain).toBe(trustDomain);
            const bundle = parseSpiffeBundle(await resolve(outputs.trustBundle));
            expect(bundle.x509Authorities[0].raw.equals(derOfPem((await rootOf(run, name)).certificatePem))).toBe(true);
            expect(await resolve(outputs.bundleEndpointUrl)).toMatch(/^https:\/\//);
        }
    });
});

describe("config changes", () => {
    it("follows istiodCertDuration (the seed's rotation to 720h) and rootCaValidity", async () => {
        const run = await runProgram(program, {
            stack: "cluster-kind",
            projectConfig: { ...projectConfigOf("cluster-kind"), istiodCertDuration: "720h", istiodCertRenewBefore: "240h", rootCaValidity: "43800h" },
        });
        const certificates = run.ofType(certificateType);
        expect(certificates).toHaveLength(2);
        for (const certificate of certificates) {
            expect(certificate.inputs.spec).toMatchObject({ duration: "720h", renewBefore: "240h" });
        }
        for (const cert of run.ofType("tls:index/selfSignedCert:SelfSignedCert")) expect(cert.inputs.validityPeriodHours).toBe(43800);
    });

    it("uses the configured node port, and restricts the bundle endpoint to the peers' ranges, not the clients'", async () => {
        const kind = await runProgram(program, {
            stack: "cluster-kind",
            projectConfig: { ...projectConfigOf("cluster-kind"), bundleEndpointNodePort: 31843 },
        });
        for (const domain of kind.result.domains) {
            const address = await resolve(domain.cluster.nodeAddress!);
            expect(await resolve(domain.spire.bundleEndpointUrl)).toBe(`https://${address}:31843`);
        }
        // Peers' SPIRE servers fetch the bundle from their own egress addresses: the clients'
        // ranges (ingress only) must not close the endpoint to them.
        const peerRanges = ["192.0.2.0/24", "198.51.100.7/32"];
        const gke = await runProgram(program, {
            stack: "cluster-gke",
            projectConfig: { ...projectConfigOf("cluster-gke"), loadBalancerSourceRanges: ["203.0.113.0/24"], peerSourceRanges: peerRanges },
        });
        const services = trustResources(gke).filter((r) => r.type === "kubernetes:core/v1:Service");
        expect(services).toHaveLength(2);
        for (const service of services) expect(service.inputs.spec.loadBalancerSourceRanges).toEqual(peerRanges);
        const clientsOnly = await runProgram(program, {
            stack: "cluster-gke",
            projectConfig: { ...projectConfigOf("cluster-gke"), loadBalancerSourceRanges: ["203.0.113.0/24"] },
        });
        const open = trustResources(clientsOnly).filter((r) => r.type === "kubernetes:core/v1:Service");
        expect(open).toHaveLength(2);
        for (const service of open) expect(service.inputs.spec.loadBalancerSourceRanges).toBeUndefined();
    });

    it("previews without known addresses or certificates", async () => {
        for (const stack of stackNames) {
            const run = await runProgram(program, { stack, preview: true });
            expect(run.ofType(cftdType)).toHaveLength(2);
        }
    });
});

describe("a domain root changes only through rootCaGeneration", () => {
    const selfSignedType = "tls:index/selfSignedCert:SelfSignedCert";
    const locallySignedType = "tls:index/locallySignedCert:LocallySignedCert";
    const keyType = "tls:index/privateKey:PrivateKey";
    const stashType = "pulumi:index:Stash";
    const baseConfig = projectConfigOf("cluster-kind");
    type Domain = Record<string, unknown>;
    const editDomains = (config: Record<string, unknown>, edit: (domain: Domain, index: number) => Domain) => ({
        ...config,
        domains: (config.domains as Domain[]).map(edit),
    });

    /** What a deployment left in the state for the next one: each Stash's recorded value and trigger. */
    function stateAfter(run: Run): Record<string, PriorStash> {
        return Object.fromEntries(
            run.ofType(stashType).map((stash) => [stash.name, { output: stash.inputs.input, replacementTrigger: stash.replacementTrigger }]),
        );
    }

    /** Runs an update on top of `prior`, collecting the warnings the program logs. */
    async function update(projectConfig: Record<string, unknown>, prior: Record<string, PriorStash>, secretConfig?: Record<string, string>) {
        const warn = vi.spyOn(pulumi.log, "warn").mockResolvedValue();
        try {
            const run = await runProgram(program, { stack: "cluster-kind", projectConfig, priorStashes: prior, secretConfig });
            return { run, warnings: warn.mock.calls.map(([message]) => message) };
        } finally {
            warn.mockRestore();
        }
    }

    const certOf = (run: Run, domain: string) => run.one(selfSignedType, `${domain}-root-ca`);
    const keyOf = (run: Run, domain: string) => run.one(keyType, `${domain}-root-ca`);
    /** The certificate's settings (the mocks make a fresh key on every run, so not its key). */
    const issuedAs = (run: Run, domain: string) => {
        // eslint-disable-next-line @typescript-eslint/no-unused-vars
        const { privateKeyPem, ...settings } = certOf(run, domain).inputs;
        return settings;
    };

    it("ties the root key, certificate and record to the domain's generation (1 unless set)", async () => {
        const run = await runProgram(program, {
            stack: "cluster-kind",
            projectConfig: editDomains(baseConfig, (d, i) => (i === 1 ? { ...d, rootCaGeneration: 4 } : d)),
        });
        for (const [domain, generation] of [["cluster-1", 1], ["cluster-2", 4]] as const) {
            expect(keyOf(run, domain).replacementTrigger, domain).toBe(generation);
            expect(certOf(run, domain).replacementTrigger, domain).toBe(generation);
            expect(run.one(stashType, `${domain}-root-ca-record`).replacementTrigger, domain).toBe(generation);
            // A new root brings new intermediates: their keys and certificates carry the generation too.
            for (const purpose of ["spire", "istio"]) {
                expect(run.one(keyType, `${domain}-intermediate-ca-${purpose}`).replacementTrigger, domain).toBe(generation);
                expect(run.one(locallySignedType, `${domain}-intermediate-ca-${purpose}`).replacementTrigger, domain).toBe(generation);
            }
        }
        // Nothing else is replaced by a generation: the Secrets and Issuers follow the certificates' values.
        const perDomain = [keyType, selfSignedType, stashType, keyType, keyType, locallySignedType, locallySignedType];
        expect(run.resources.filter((r) => r.replacementTrigger !== undefined).map((r) => r.type).sort()).toEqual([...perDomain, ...perDomain].sort());
    });

    it("keeps a deployed root as issued when rootCaValidity changes, and says so at plan time", async () => {
        const first = await runProgram(program, { stack: "cluster-kind", projectConfig: baseConfig });
        const { run, warnings } = await update({ ...baseConfig, rootCaValidity: "43800h" }, stateAfter(first));
        for (const domain of ["cluster-1", "cluster-2"]) {
            expect(issuedAs(run, domain)).toEqual(issuedAs(first, domain));
            expect(certOf(run, domain).replacementTrigger).toBe(certOf(first, domain).replacementTrigger);
            expect(keyOf(run, domain).replacementTrigger).toBe(keyOf(first, domain).replacementTrigger);
        }
        expect(warnings).toHaveLength(2);
        for (const [index, domain] of ["cluster-1", "cluster-2"].entries()) {
            expect(warnings[index]).toContain(`domain ${domain}: rootCaValidity is 43800h, but the root was issued for 87600h`);
            expect(warnings[index]).toContain("NOT re-issued");
            expect(warnings[index]).toContain("rootCaGeneration of domain");
            expect(warnings[index]).toContain("to 2");
        }
    });

    it("issues a new root with the current settings when a domain's generation is raised", async () => {
        const first = await runProgram(program, { stack: "cluster-kind", projectConfig: baseConfig });
        const config = editDomains({ ...baseConfig, rootCaValidity: "43800h" }, (d, i) => (i === 0 ? { ...d, rootCaGeneration: 2 } : d));
        const { run, warnings } = await update(config, stateAfter(first));
        // A trigger that differs from the recorded one makes the engine replace key and certificate.
        expect(keyOf(run, "cluster-1").replacementTrigger).not.toEqual(keyOf(first, "cluster-1").replacementTrigger);
        expect(certOf(run, "cluster-1").replacementTrigger).not.toEqual(certOf(first, "cluster-1").replacementTrigger);
        expect(certOf(run, "cluster-1").inputs.validityPeriodHours).toBe(43800);
        // The other domain keeps its root and is the only one warned about.
        expect(issuedAs(run, "cluster-2")).toEqual(issuedAs(first, "cluster-2"));
        expect(warnings).toEqual([expect.stringContaining("domain cluster-2: rootCaValidity is 43800h")]);
    });

    async function withSuppliedRoot(subject: string, generation?: number) {
        const root = await createTestRootCa(subject);
        const config = editDomains(baseConfig, (d, i) =>
            i === 0
                ? { ...d, rootCa: { certificatePem: root.certificatePem, privateKeyConfigKey: "cluster1RootKey" }, ...(generation ? { rootCaGeneration: generation } : {}) }
                : d,
        );
        return { root, config, secrets: { cluster1RootKey: root.privateKeyPem } };
    }

    it("refuses a changed supplied root unless the generation is raised", async () => {
        const deployed = await withSuppliedRoot("deployed root");
        const first = await runProgram(program, { stack: "cluster-kind", projectConfig: deployed.config, secretConfig: deployed.secrets });
        const replacement = await withSuppliedRoot("replacement root");
        await expect(update(replacement.config, stateAfter(first), replacement.secrets)).rejects.toThrow(
            /domain cluster-1: rootCa\.certificatePem changed .* generation 1.*rootCaGeneration of domain cluster-1 to 2/s,
        );

        const rotated = await withSuppliedRoot("replacement root", 2);
        const { run } = await update(rotated.config, stateAfter(first), rotated.secrets);
        for (const namespace of ["spire-server", "istio-system"]) {
            const data = issuerSecretOf(run, "cluster-1", namespace).inputs.stringData;
            expect(data["ca.crt"]).toBe(rotated.root.certificatePem);
            expect(new X509Certificate(data["tls.crt"]).verify(new X509Certificate(rotated.root.certificatePem).publicKey)).toBe(true);
        }
    });

    it("refuses to swap a generated root for a supplied one (or back) within a generation", async () => {
        const generated = await runProgram(program, { stack: "cluster-kind", projectConfig: baseConfig });
        const supplied = await withSuppliedRoot("supplied later");
        await expect(update(supplied.config, stateAfter(generated), supplied.secrets)).rejects.toThrow(
            /domain cluster-1: the root of generation 1 is generated by the program, but config now asks for a supplied root/,
        );
        const suppliedFirst = await runProgram(program, { stack: "cluster-kind", projectConfig: supplied.config, secretConfig: supplied.secrets });
        await expect(update(baseConfig, stateAfter(suppliedFirst))).rejects.toThrow(
            /domain cluster-1: the root of generation 1 is supplied through config, but config now asks for a generated root/,
        );
    });

    it("refuses a generation that is not a whole number from 1, naming the key", async () => {
        for (const bad of [0, -1, 1.5, "two"]) {
            await expect(
                runProgram(program, { stack: "cluster-kind", projectConfig: editDomains(baseConfig, (d, i) => (i === 1 ? { ...d, rootCaGeneration: bad } : d)) }),
            ).rejects.toThrow(`spire-istio-mesh:domains[1].rootCaGeneration = ${JSON.stringify(bad)}: must be a whole number from 1`);
        }
    });
});

describe("a root CA supplied through config", () => {
    async function suppliedRun(privateKeyPem?: string) {
        const root = await createTestRootCa("foo.com supplied root");
        const config = projectConfigOf("cluster-kind");
        const domains = (config.domains as Record<string, unknown>[]).map((d, index) =>
            index === 0 ? { ...d, rootCa: { certificatePem: root.certificatePem, privateKeyConfigKey: "cluster1RootKey" } } : d,
        );
        const run = await runProgram(program, {
            stack: "cluster-kind",
            projectConfig: { ...config, domains },
            secretConfig: { cluster1RootKey: privateKeyPem ?? root.privateKeyPem },
        });
        return { root, run };
    }

    it("backs the issuer with the supplied root, federates it, and generates nothing for that domain", async () => {
        const { root, run } = await suppliedRun();
        const rootResources = [...run.ofType("tls:index/privateKey:PrivateKey"), ...run.ofType("tls:index/selfSignedCert:SelfSignedCert")].filter((r) => r.name.endsWith("-root-ca"));
        expect(rootResources.map((r) => r.name).sort()).toEqual(["cluster-2-root-ca", "cluster-2-root-ca"]);

        // The supplied root signs the domain's intermediates; its key reaches no Secret.
        for (const namespace of ["spire-server", "istio-system"]) {
            const secret = issuerSecretOf(run, "cluster-1", namespace);
            expect(secret.inputs.stringData["ca.crt"]).toBe(root.certificatePem);
            expect(new X509Certificate(secret.inputs.stringData["tls.crt"]).verify(new X509Certificate(root.certificatePem).publicKey)).toBe(true);
            expect(secret.inputs.stringData["tls.key"]).not.toBe(root.privateKeyPem);
            expect(secret.secretInputPaths.some((path) => path === "stringData" || path.startsWith("stringData."))).toBe(true);
        }
        const rootPublicKey = createPublicKey(createPrivateKey(root.privateKeyPem)).export({ format: "der", type: "spki" });
        expect(secretKeysInClusters(run).filter((found) => found.publicKeyDer.equals(rootPublicKey))).toEqual([]);
        const domain = run.result.domains.find((d) => d.config.name === "cluster-1")!;
        expect(await isSecretOutput(domain.rootCa.rootPrivateKeyPem)).toBe(true);

        const imported = onlyOne(inDomain(run.ofType(cftdType), "cluster-2"), "CFTD in cluster-2");
        const bundle = parseSpiffeBundle(imported.inputs.spec.trustDomainBundle);
        expect(bundle.x509Authorities[0].raw.equals(derOfPem(root.certificatePem))).toBe(true);
    });

    it("refuses a key that is not the supplied certificate's while validating config, naming the secret config key", async () => {
        const other = await createTestRootCa("unrelated");
        await expect(suppliedRun(other.privateKeyPem)).rejects.toThrow(
            'spire-istio-mesh:domains[0].rootCa.privateKeyConfigKey = "cluster1RootKey": must name a secret config key holding the PEM private key of rootCa.certificatePem, but the key it holds belongs to another certificate',
        );
    });
});

describe("bundle endpoint URL", () => {
    it("is https://host:port for IPv4, IPv6 and DNS names, and refuses a host that carries a port", () => {
        expect(httpsUrl("203.0.113.10", 8443)).toBe("https://203.0.113.10:8443");
        expect(httpsUrl("fd00::5", 30843)).toBe("https://[fd00::5]:30843");
        expect(httpsUrl("lb.example.com", 8443)).toBe("https://lb.example.com:8443");
        expect(() => httpsUrl("203.0.113.10:8443", 8443)).toThrow(/already carries a port/);
        expect(() => httpsUrl("", 8443)).toThrow();
    });

    it("reads a load balancer's IP, or its hostname where the cloud gives one", () => {
        expect(loadBalancerHost({ loadBalancer: { ingress: [{ ip: "203.0.113.7" }] } } as never)).toBe("203.0.113.7");
        expect(loadBalancerHost({ loadBalancer: { ingress: [{ hostname: "a.elb.example.com" }] } } as never)).toBe("a.elb.example.com");
        expect(() => loadBalancerHost({ loadBalancer: { ingress: [] } } as never)).toThrow(/no ingress address/);
    });
});

describe("ClusterFederatedTrustDomain object names", () => {
    it("keep a trust domain that is already a Kubernetes name, and map '_' to a distinct valid name", () => {
        expect(federatedTrustDomainObjectName("bar.com")).toBe("bar.com");
        const underscored = federatedTrustDomainObjectName("a_b.example");
        expect(underscored).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
        expect(underscored).not.toBe(federatedTrustDomainObjectName("a-b.example"));
    });

    it("are valid object names for every trust domain config accepts (config refuses '_', which Istio refuses too)", async () => {
        const config = projectConfigOf("cluster-kind");
        const longest = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61)].join(".");
        const domains = (config.domains as Record<string, unknown>[]).map((d, i) => (i === 1 ? { ...d, trustDomain: longest } : d));
        const run = await runProgram(program, { stack: "cluster-kind", projectConfig: { ...config, domains } });
        const federation = run.ofType(cftdType).find((r) => r.inputs.spec.trustDomain === longest)!;
        expect(validateKubernetesObject(federation.inputs as KubernetesObject)).toEqual([]);
        expect(federation.inputs.metadata.name).toBe(longest);
    });
});
