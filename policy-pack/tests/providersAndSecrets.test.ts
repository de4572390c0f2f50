import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { fromDeclared } from "../lib/resource";
import { isDefaultProvider } from "../lib/kubernetes";
import { explicitProviderProblems } from "../policies/kubernetesExplicitProvider";
import { secretMaterialIn, sensitiveValueProblems } from "../policies/sensitiveValuesSecret";
import { defaultProviderUrn, kubernetesObject, providerUrn, resource, stack } from "./fixtures";

const privateKeyPem = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();
const kubeconfig = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "  - name: kind-cluster-1",
    "    cluster: {server: https://172.18.0.2:6443}",
    "users:",
    "  - name: reader",
    "    user: {token: abc}",
    "",
].join("\n");
const token = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from('{"sub":"istio-reader"}').toString("base64url")}.c2lnbmF0dXJl`;

describe("kubernetes-explicit-provider", () => {
    const namespace = kubernetesObject("v1", "Namespace", "istio-system", { metadata: { name: "istio-system" } });
    const release = resource("kubernetes:helm.sh/v3:Release", "cluster-1-spire", { chart: "spire" }, { provider: providerUrn("cluster-1") });

    it("accepts objects and releases going through a cluster's provider", () => {
        expect(explicitProviderProblems(namespace)).toEqual([]);
        expect(explicitProviderProblems(release)).toEqual([]);
    });

    it("flags a resource without a provider and one on the default provider", () => {
        expect(explicitProviderProblems({ ...namespace, provider: undefined })).toEqual([
            'kubernetes:core/v1:Namespace "cluster-1-istio-system" has no explicit Kubernetes provider; create it with inCluster(cluster, parent) so it goes through its cluster\'s own provider.',
        ]);
        expect(explicitProviderProblems({ ...release, provider: defaultProviderUrn })).toEqual([
            expect.stringContaining("uses the default Kubernetes provider (whatever ~/.kube/config points at)"),
        ]);
    });

    describe("cert-manager's remote component, whose Release gets the provider it passes on", () => {
        const certManager = resource(
            "kubernetes-cert-manager:index:CertManager",
            "cluster-1-cert-manager",
            { helmOptions: { chart: "cert-manager" } },
            { providers: { kubernetes: providerUrn("cluster-1") } },
        );

        it("accepts the cluster's provider in providers, and leaves the component alone where the map is not known (under the engine)", () => {
            expect(explicitProviderProblems(certManager)).toEqual([]);
            expect(explicitProviderProblems({ ...certManager, providers: undefined })).toEqual([]);
        });

        it.each([
            ["no Kubernetes provider in providers", {}, "passes no Kubernetes provider to its Helm Release"],
            ["an empty one", { kubernetes: "" }, "passes no Kubernetes provider to its Helm Release"],
            ["the default provider", { kubernetes: defaultProviderUrn }, "passes the default Kubernetes provider to its Helm Release"],
            ["only a provider of another package", { tls: `${stack}::pulumi:providers:tls::t` }, "passes no Kubernetes provider"],
        ])("flags a component with %s", (_, providers, message) => {
            expect(explicitProviderProblems({ ...certManager, providers })).toEqual([expect.stringContaining(message)]);
        });
    });

    it("tells default providers from explicit ones named like them", () => {
        expect(isDefaultProvider(`${stack}::pulumi:providers:kubernetes::default`)).toBe(true);
        expect(isDefaultProvider(defaultProviderUrn)).toBe(true);
        expect(isDefaultProvider(`${stack}::pulumi:providers:kubernetes::default-cluster`)).toBe(false);
        expect(isDefaultProvider(providerUrn("cluster-1"))).toBe(false);
    });

    it("leaves alone providers, non-Kubernetes resources and local components whose children carry the provider", () => {
        expect(explicitProviderProblems(resource("pulumi:providers:kubernetes", "cluster-1", {}))).toEqual([]);
        expect(explicitProviderProblems(resource("tls:index/privateKey:PrivateKey", "k", {}))).toEqual([]);
        expect(explicitProviderProblems(resource("kubernetes:helm.sh/v3:Chart", "c", {}))).toEqual([]);
        expect(explicitProviderProblems(resource("kubernetes:yaml:ConfigFile", "f", {}))).toEqual([]);
    });
});

describe("sensitive-values-secret (offline, where secretness is known)", () => {
    it.each([
        ["a PEM private key", privateKeyPem, "a PEM private key"],
        ["a kubeconfig", kubeconfig, "a kubeconfig"],
        ["a service-account token", token, "a bearer token"],
        ["a certificate", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", undefined],
        ["a plain word", "istio-system", undefined],
    ])("recognises %s", (_, text, what) => {
        expect(secretMaterialIn(text)).toBe(what);
    });

    const declaredProvider = {
        type: "pulumi:providers:kubernetes",
        name: "cluster-1",
        urn: providerUrn("cluster-1"),
        inputs: { kubeconfig, clusterIdentifier: "kind-cluster-1" },
        provider: "",
        secretInputPaths: ["kubeconfig"],
    };

    it("accepts a provider whose kubeconfig input was secret (as the harness records it)", () => {
        expect(sensitiveValueProblems(fromDeclared(declaredProvider))).toEqual([]);
    });

    it("flags a provider whose kubeconfig is plain text", () => {
        expect(sensitiveValueProblems(fromDeclared({ ...declaredProvider, secretInputPaths: [] }))).toEqual([
            'pulumi:providers:kubernetes "cluster-1": the kubeconfig at kubeconfig is not a Pulumi secret, so it is stored in plain text in the state and shown in diffs; make it secret (pulumi.secret(...), or derive it from a secret output).',
        ]);
        expect(sensitiveValueProblems(fromDeclared({ ...declaredProvider, inputs: { kubeconfig: "~/.kube/config" }, secretInputPaths: [] }))).toEqual([]);
    });

    it("flags a chart repository password in plain text, and accepts it as a secret (as the program passes it)", () => {
        const release = {
            type: "kubernetes:helm.sh/v3:Release",
            name: "cluster-1-istiod",
            urn: `${stack}::kubernetes:helm.sh/v3:Release::cluster-1-istiod`,
            inputs: { chart: "istiod", repositoryOpts: { repo: "https://charts.internal.example/istio", username: "robot", password: "pw" } },
            provider: providerUrn("cluster-1"),
            secretInputPaths: ["repositoryOpts.username", "repositoryOpts.password"],
        };
        expect(sensitiveValueProblems(fromDeclared(release))).toEqual([]);
        expect(sensitiveValueProblems(fromDeclared({ ...release, secretInputPaths: [] }))).toEqual([
            'Release "cluster-1-istiod" in cluster "cluster-1": the chart repository\'s password at repositoryOpts.password is not a Pulumi secret, so it is stored in plain text in the state and shown in diffs; make it secret (pulumi.secret(...), or derive it from a secret output).',
        ]);
    });

    it("flags the cert-manager component's mirror password in plain text in its helmOptions, and accepts it as a secret", () => {
        const certManager = {
            type: "kubernetes-cert-manager:index:CertManager",
            name: "cluster-1-cert-manager",
            urn: `${stack}::kubernetes-cert-manager:index:CertManager::cluster-1-cert-manager`,
            inputs: { helmOptions: { chart: "cert-manager", repositoryOpts: { repo: "https://mirror.example/jetstack", username: "robot", password: "pw" } } },
            providers: { kubernetes: providerUrn("cluster-1") },
            secretInputPaths: ["helmOptions.repositoryOpts.username", "helmOptions.repositoryOpts.password"],
        };
        expect(sensitiveValueProblems(fromDeclared(certManager))).toEqual([]);
        expect(sensitiveValueProblems(fromDeclared({ ...certManager, secretInputPaths: ["helmOptions.repositoryOpts.username"] }))).toEqual([
            expect.stringContaining("the chart repository's password at helmOptions.repositoryOpts.password is not a Pulumi secret"),
        ]);
    });

    const remoteSecret = {
        type: "kubernetes:core/v1:Secret",
        name: "cluster-2-istio-remote-secret-cluster-1",
        urn: `${stack}::kubernetes:core/v1:Secret::cluster-2-istio-remote-secret-cluster-1`,
        inputs: {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "istio-remote-secret-cluster-1", namespace: "istio-system", labels: { "istio/multiCluster": "true" } },
            stringData: { "cluster-1": kubeconfig },
        },
        provider: providerUrn("cluster-2"),
        secretInputPaths: ["stringData"],
    };

    it("accepts an Istio remote secret whose stringData is secret, and one secret entry by entry", () => {
        expect(sensitiveValueProblems(fromDeclared(remoteSecret))).toEqual([]);
        expect(sensitiveValueProblems(fromDeclared({ ...remoteSecret, secretInputPaths: ["stringData.cluster-1"] }))).toEqual([]);
    });

    it("flags an Istio remote secret in plain text, by its label whatever the entry is called", () => {
        expect(sensitiveValueProblems(fromDeclared({ ...remoteSecret, secretInputPaths: [] }))).toEqual([
            expect.stringContaining('Secret "istio-remote-secret-cluster-1" in cluster "cluster-2": a remote cluster\'s kubeconfig at stringData.cluster-1 is not a Pulumi secret'),
        ]);
    });

    const tlsSecret = {
        type: "kubernetes:core/v1:Secret",
        name: "cluster-1-root-ca",
        urn: `${stack}::kubernetes:core/v1:Secret::cluster-1-root-ca`,
        inputs: {
            apiVersion: "v1",
            kind: "Secret",
            type: "kubernetes.io/tls",
            metadata: { name: "root-ca", namespace: "cert-manager" },
            data: { "tls.crt": Buffer.from("-----BEGIN CERTIFICATE-----").toString("base64"), "tls.key": Buffer.from(privateKeyPem).toString("base64") },
        },
        provider: providerUrn("cluster-1"),
        secretInputPaths: ["data.tls.key"],
    };

    it("accepts a TLS Secret whose key is secret while the certificate is not", () => {
        expect(sensitiveValueProblems(fromDeclared(tlsSecret))).toEqual([]);
    });

    it("flags a TLS Secret whose key is plain, by name and by its base64 content", () => {
        expect(sensitiveValueProblems(fromDeclared({ ...tlsSecret, secretInputPaths: [] }))).toEqual([
            expect.stringContaining('Secret "root-ca" in cluster "cluster-1": Secret entry tls.key at data.tls.key is not a Pulumi secret'),
        ]);
        const renamed = { ...tlsSecret, inputs: { ...tlsSecret.inputs, data: { "root.pem": tlsSecret.inputs.data["tls.key"] } }, secretInputPaths: [] };
        expect(sensitiveValueProblems(fromDeclared(renamed))).toEqual([expect.stringContaining("a PEM private key (base64) at data.root.pem")]);
    });

    it.each([
        ["token", "t"],
        ["password", "p"],
        ["ca.key", "k"],
        ["kubeconfig", "c"],
    ])("flags a plain Secret entry named %s", (key, value) => {
        const secret = { ...tlsSecret, inputs: { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, stringData: { [key]: value } }, secretInputPaths: [] };
        expect(sensitiveValueProblems(fromDeclared(secret))).toEqual([expect.stringContaining(`Secret entry ${key} at stringData.${key}`)]);
    });

    it("flags a tls resource whose private key input is plain, and key material in any other resource", () => {
        const cert = {
            type: "tls:index/selfSignedCert:SelfSignedCert",
            name: "root",
            urn: `${stack}::tls:index/selfSignedCert:SelfSignedCert::root`,
            inputs: { privateKeyPem, isCaCertificate: true },
            secretInputPaths: ["privateKeyPem"],
        };
        expect(sensitiveValueProblems(fromDeclared(cert))).toEqual([]);
        expect(sensitiveValueProblems(fromDeclared({ ...cert, secretInputPaths: [] }))).toEqual([
            expect.stringContaining('tls:index/selfSignedCert:SelfSignedCert "root": the private key privateKeyPem at privateKeyPem is not a Pulumi secret'),
        ]);
        const release = {
            type: "kubernetes:helm.sh/v3:Release",
            name: "istiod",
            urn: `${stack}::kubernetes:helm.sh/v3:Release::istiod`,
            inputs: { chart: "istiod", values: { pilot: { env: [{ name: "TOKEN", value: token }] } } },
            provider: providerUrn("cluster-1"),
            secretInputPaths: [],
        };
        expect(sensitiveValueProblems(fromDeclared(release))).toEqual([expect.stringContaining("a bearer token at values.pilot.env[0].value is not a Pulumi secret")]);
        expect(sensitiveValueProblems(fromDeclared({ ...release, secretInputPaths: ["values.pilot.env[0]"] }))).toEqual([]);
    });

    it("judges nothing when the source cannot tell secrets apart (a live validation)", () => {
        expect(sensitiveValueProblems(resource("pulumi:providers:kubernetes", "cluster-1", { kubeconfig }))).toEqual([]);
    });
});

describe("fromDeclared", () => {
    it("keeps type, name, URN and provider, turns unknown values into UNKNOWN and '' providers into none", () => {
        const record = fromDeclared({
            type: "kubernetes:core/v1:Service",
            name: "svc",
            urn: "urn:x",
            inputs: { spec: { clusterIP: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" } },
            provider: "",
        });
        expect(record).toMatchObject({ type: "kubernetes:core/v1:Service", name: "svc", urn: "urn:x", provider: undefined, isSecretPath: undefined });
        expect(typeof (record.props.spec as { clusterIP: unknown }).clusterIP).toBe("symbol");
    });

    it("treats everything inside a secret path as secret, and nothing else", () => {
        const record = fromDeclared({ type: "t", name: "n", urn: "u", inputs: {}, secretInputPaths: ["stringData", "values.env[1]"] });
        expect(record.isSecretPath?.(["stringData", "cluster-1"])).toBe(true);
        expect(record.isSecretPath?.(["values", "env", 1, "value"])).toBe(true);
        expect(record.isSecretPath?.(["values", "env", 0, "value"])).toBe(false);
        expect(record.isSecretPath?.(["data"])).toBe(false);
    });
});
