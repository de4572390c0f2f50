import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { tokenKubeconfig } from "../../lib/kubeconfig";
import { effectiveConfig } from "../lib/definition";
import { jwtPayload, readerKubeconfigProblems } from "../lib/readerKubeconfig";
import { fromDeclared, PlainResource, rootStackType } from "../lib/resource";
import { UNKNOWN } from "../lib/values";
import { adminKubeconfigFindings, definition as adminDefinition } from "../policies/adminKubeconfigsNotExported";
import { definition as credentialsDefinition, federationCredentialFindings } from "../policies/federationCredentialsReaderOnly";
import { definition as remoteSecretDefinition, remoteSecretProblems } from "../policies/istioRemoteSecretReaderOnly";
import { kubernetesObject, mutate, REMOVE, resource, stack, withValue } from "./fixtures";

/** A JWT with the given claims; the signature is never checked (a policy cannot verify it anyway). */
function jwt(claims: Record<string, unknown>): string {
    return `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2lnbmF0dXJl`;
}

const readerToken = jwt({ iss: "kubernetes/serviceaccount", sub: "system:serviceaccount:istio-system:peer-reader-foo.com" });

/** The kubeconfig as the program builds it for a peer's istiod (lib/kubeconfig.ts), as a parsed document. */
const readerDocument = parse(tokenKubeconfig({ name: "cluster-2", server: "https://172.18.0.3:6443", caCertificateBase64: "Y2E=", token: readerToken })) as Record<string, unknown>;
const readerKubeconfig = stringify(readerDocument);
const user = ["users", 0, "user"] as const;

/** The reader kubeconfig with one field changed. */
function changed(path: readonly (string | number)[], replacement: unknown): string {
    return stringify(withValue(readerDocument, path, replacement));
}

/** One change to the kubeconfig per case, each a way to hand a peer more than the reader's token. */
const broken: [string, string, string][] = [
    ["a client certificate", changed([...user, "client-certificate-data"], "Y2VydA=="), '"client-certificate-data"'],
    ["a client key", changed([...user, "client-key-data"], "a2V5"), '"client-key-data"'],
    ["an exec plugin", changed([...user, "exec"], { command: "gke-gcloud-auth-plugin", apiVersion: "client.authentication.k8s.io/v1beta1" }), '"exec"'],
    ["an exec plugin instead of the token", changed(user, { exec: { command: "gke-gcloud-auth-plugin", apiVersion: "client.authentication.k8s.io/v1beta1" } }), '"exec"'],
    ["an auth-provider", changed([...user, "auth-provider"], { name: "gcp" }), '"auth-provider"'],
    ["basic auth", changed(user, { token: readerToken, username: "admin", password: "secret" }), '"username", "password"'],
    ["impersonation", changed([...user, "as"], "system:admin"), '"as"'],
    ["a token file", changed([...user, "tokenFile"], "/var/run/token"), '"tokenFile"'],
    ["another account's token", changed([...user, "token"], jwt({ sub: "system:serviceaccount:kube-system:clusterrole-aggregation-controller" })), 'belongs to "system:serviceaccount:kube-system:clusterrole-aggregation-controller"'],
    ["a user's token (not a service account)", changed([...user, "token"], jwt({ sub: "admin@example.com" })), 'belongs to "admin@example.com"'],
    [
        "the token of Istio's stock reader, shared by every peer",
        changed([...user, "token"], jwt({ sub: "system:serviceaccount:istio-system:istio-reader-service-account" })),
        'belongs to "system:serviceaccount:istio-system:istio-reader-service-account"',
    ],
    ["the token of an account named only the prefix", changed([...user, "token"], jwt({ sub: "system:serviceaccount:istio-system:peer-reader-" })), 'belongs to "system:serviceaccount:istio-system:peer-reader-"'],
    ["an opaque token", changed([...user, "token"], "0123456789abcdef"), "is not a service-account JWT"],
    ["no token", changed([...user, "token"], REMOVE), 'has no bearer "token"'],
    ["a second user", changed(["users", 1], { name: "admin", user: { token: readerToken } }), "has 2 users"],
    ["no users", changed(["users"], []), "has 0 users"],
];

describe("reader kubeconfigs", () => {
    const rules = { readerServiceAccountPrefix: "peer-reader-" };

    it("accepts the kubeconfig the program builds for a peer's istiod, whatever the reader's namespace", () => {
        expect(readerKubeconfigProblems(tokenKubeconfig({ name: "c", server: "https://h:6443", caCertificateBase64: "Y2E=", token: readerToken }), rules)).toEqual([]);
        expect(readerKubeconfigProblems(changed([...user, "token"], jwt({ sub: "system:serviceaccount:istio:peer-reader-bar.com" })), rules)).toEqual([]);
    });

    it.each(broken)("refuses %s", (_, kubeconfig, reason) => {
        const problems = readerKubeconfigProblems(kubeconfig, rules);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toContain(reason);
    });

    it("refuses what is not a kubeconfig, and does not judge what a preview does not know", () => {
        expect(readerKubeconfigProblems("just: text", rules)).toEqual(["is not a kubeconfig (no users list)"]);
        expect(readerKubeconfigProblems("users: [", rules)).toEqual(["is not valid kubeconfig YAML"]);
        expect(readerKubeconfigProblems(UNKNOWN, rules)).toEqual([]);
    });

    it("takes the reader accounts' prefix from the rules", () => {
        expect(readerKubeconfigProblems(readerKubeconfig, { readerServiceAccountPrefix: "mesh-reader-" })).toEqual([
            expect.stringContaining("not system:serviceaccount:<namespace>:mesh-reader-<peer>"),
        ]);
    });

    it("decodes JWT payloads in base64url, and nothing else", () => {
        expect(jwtPayload(jwt({ sub: "a?b>c" }))).toEqual({ sub: "a?b>c" });
        expect(jwtPayload("a.b")).toBeUndefined();
        expect(jwtPayload(`x.${Buffer.from("[1]").toString("base64url")}.y`)).toBeUndefined();
    });
});

describe("istio-remote-secret-reader-only", () => {
    const config = effectiveConfig(remoteSecretDefinition);
    const remoteSecret = kubernetesObject("v1", "Secret", "istio-remote-secret-cluster-2", {
        metadata: { name: "istio-remote-secret-cluster-2", namespace: "istio-system", labels: { "istio/multiCluster": "true" } },
        stringData: { "cluster-2": readerKubeconfig },
    });

    it("is mandatory and expects a peer-reader- account by default", () => {
        expect(remoteSecretDefinition.enforcementLevel).toBe("mandatory");
        expect(config).toEqual({ readerServiceAccountPrefix: "peer-reader-" });
        expect(remoteSecretProblems(remoteSecret, config)).toEqual([]);
    });

    it.each(broken)("flags a remote secret whose kubeconfig has %s", (_, kubeconfig, reason) => {
        const problems = remoteSecretProblems(mutate(remoteSecret, ["stringData", "cluster-2"], kubeconfig), config);
        expect(problems).toEqual([expect.stringContaining(reason)]);
        expect(problems[0]).toContain('Secret "istio-remote-secret-cluster-2" in cluster "cluster-1"');
        expect(problems[0]).toContain("at stringData.cluster-2");
    });

    it("reads base64 `data` entries as well as `stringData`", () => {
        const inData = mutate(mutate(remoteSecret, ["stringData"], REMOVE), ["data"], { "cluster-2": Buffer.from(readerKubeconfig).toString("base64") });
        expect(remoteSecretProblems(inData, config)).toEqual([]);
        const admin = mutate(inData, ["data", "cluster-2"], Buffer.from(broken[0][1]).toString("base64"));
        expect(remoteSecretProblems(admin, config)).toEqual([expect.stringContaining("at data.cluster-2")]);
    });

    it("judges only Secrets istiod loads as remote secrets, and not what a preview does not know", () => {
        const admin = mutate(remoteSecret, ["stringData", "cluster-2"], broken[0][1]);
        expect(remoteSecretProblems(mutate(admin, ["metadata", "labels"], REMOVE), config)).toEqual([]);
        expect(remoteSecretProblems(mutate(admin, ["metadata", "labels", "istio/multiCluster"], "false"), config)).toEqual([]);
        expect(remoteSecretProblems({ ...admin, type: "kubernetes:core/v1:ConfigMap", props: { ...admin.props, kind: "ConfigMap" } }, config)).toEqual([]);
        expect(remoteSecretProblems(mutate(remoteSecret, ["stringData", "cluster-2"], UNKNOWN), config)).toEqual([]);
        expect(remoteSecretProblems(mutate(remoteSecret, ["stringData"], UNKNOWN), config)).toEqual([]);
    });

    it("takes the reader accounts' prefix from policy config", () => {
        expect(remoteSecretProblems(remoteSecret, { readerServiceAccountPrefix: "mesh-reader-" })).toHaveLength(1);
    });
});

/** The root stack resource as the engine gives it to stack policies: its outputs are the stack outputs. */
function rootStack(outputs: Record<string, unknown>, secretOutputs?: string[]): PlainResource {
    return fromDeclared({
        type: rootStackType,
        name: "spire-istio-mesh-test",
        urn: `${stack}::${rootStackType}::spire-istio-mesh-test`,
        inputs: outputs,
        secretInputPaths: secretOutputs,
    });
}

describe("federation-credentials-reader-only", () => {
    const config = effectiveConfig(credentialsDefinition);
    const outputs = { federation: { schema: "spire-istio-mesh/federation", version: 1 }, federationCredentials: { "cluster-1": { "foo.com": readerKubeconfig } } };
    const offline = rootStack(outputs, ["federationCredentials"]);
    const findings = (root: PlainResource) => federationCredentialFindings([root], config);

    it("is mandatory, reads federationCredentials and accepts the reader kubeconfig as a secret", () => {
        expect(credentialsDefinition.enforcementLevel).toBe("mandatory");
        expect(config).toEqual({ credentialsOutput: "federationCredentials", readerServiceAccountPrefix: "peer-reader-" });
        expect(findings(offline)).toEqual([]);
        // Secret entry by entry is as good as secret as a whole.
        expect(findings(rootStack(outputs, ["federationCredentials.cluster-1"]))).toEqual([]);
        expect(findings(rootStack(outputs, ["federationCredentials.cluster-1.foo.com"]))).toEqual([]);
    });

    it.each(broken)("flags an exported credential with %s", (_, kubeconfig, reason) => {
        const found = findings(rootStack(withValue(outputs, ["federationCredentials", "cluster-1", "foo.com"], kubeconfig), ["federationCredentials"]));
        expect(found).toEqual([{ urn: offline.urn, message: expect.stringContaining(reason) }]);
        expect(found[0].message).toContain('Stack output "federationCredentials" entry "cluster-1"."foo.com"');
    });

    it("flags a plain (not secret) entry where secretness is known: the offline plan", () => {
        expect(findings(rootStack(outputs, []))).toEqual([{ urn: offline.urn, message: expect.stringContaining('entry "cluster-1"."foo.com" is not a Pulumi secret') }]);
        expect(findings(rootStack(outputs, ["federation"]))).toHaveLength(1);
    });

    it("cannot judge secretness under the engine (secrets arrive unwrapped) but still judges the kubeconfig", () => {
        const live = rootStack(outputs);
        expect(live.isSecretPath).toBeUndefined();
        expect(findings(live)).toEqual([]);
        expect(findings(rootStack(withValue(outputs, ["federationCredentials", "cluster-1", "foo.com"], broken[0][1])))).toHaveLength(1);
    });

    it("skips what a preview does not know, and a stack that exports no credentials", () => {
        expect(findings(rootStack({ ...outputs, federationCredentials: UNKNOWN }, []))).toEqual([]);
        expect(findings(rootStack(withValue(outputs, ["federationCredentials", "cluster-1"], UNKNOWN), []))).toEqual([]);
        expect(findings(rootStack(withValue(outputs, ["federationCredentials", "cluster-1", "foo.com"], UNKNOWN), []))).toEqual([]);
        expect(findings(rootStack({ federation: outputs.federation }, []))).toEqual([]);
    });

    it("refuses an output that is not a map of clusters to per-peer kubeconfigs", () => {
        expect(findings(rootStack({ federationCredentials: readerKubeconfig }, ["federationCredentials"]))).toEqual([
            { urn: offline.urn, message: expect.stringContaining("is not a map of cluster name to a map of peer trust domain to kubeconfig") },
        ]);
        // One kubeconfig per cluster is the shared credential that no peer's removal revokes.
        expect(findings(rootStack({ federationCredentials: { "cluster-1": readerKubeconfig } }, ["federationCredentials"]))).toEqual([
            { urn: offline.urn, message: expect.stringContaining('entry "cluster-1" is not a map of peer trust domain to kubeconfig: every peer would share one credential') },
        ]);
    });

    it("reads only the root stack resource, and the output named in policy config", () => {
        const elsewhere = resource("spire-istio-mesh:index:Mesh", "mesh", { federationCredentials: { "cluster-1": { "foo.com": broken[0][1] } } });
        expect(federationCredentialFindings([elsewhere], config)).toEqual([]);
        const renamed = rootStack({ peerCredentials: { "cluster-1": { "foo.com": broken[0][1] } } }, ["peerCredentials"]);
        expect(federationCredentialFindings([renamed], config)).toEqual([]);
        expect(federationCredentialFindings([renamed], { ...config, credentialsOutput: "peerCredentials" })).toHaveLength(1);
    });
});

describe("admin-kubeconfigs-not-exported", () => {
    const config = effectiveConfig(adminDefinition);
    const federated = rootStack({ federation: {}, federationCredentials: { "cluster-1": readerKubeconfig } });

    it("is advisory and by default looks for kubeconfigs beside federationCredentials", () => {
        expect(adminDefinition.enforcementLevel).toBe("advisory");
        expect(config).toEqual({ adminOutputs: ["kubeconfigs"], credentialsOutput: "federationCredentials" });
        expect(adminKubeconfigFindings([federated], config)).toEqual([]);
    });

    it("warns once a stack read by peers also exports admin kubeconfigs, naming the config key that drops them", () => {
        const both = mutate(federated, ["kubeconfigs"], { "cluster-1": "(admin)" });
        const found = adminKubeconfigFindings([both], config);
        expect(found).toEqual([{ urn: federated.urn, message: expect.stringContaining('Stack output "kubeconfigs" (admin kubeconfigs) is exported beside "federationCredentials"') }]);
        expect(found[0].message).toContain("exportAdminKubeconfigs: false");
        // Unknown during a preview is still exported.
        expect(adminKubeconfigFindings([mutate(federated, ["kubeconfigs"], UNKNOWN)], config)).toHaveLength(1);
    });

    it("says nothing for a stack without credentials for peers, and follows the output names in policy config", () => {
        const adminOnly = rootStack({ kubeconfigs: { "cluster-1": "(admin)" } });
        expect(adminKubeconfigFindings([adminOnly], config)).toEqual([]);
        const custom = mutate(federated, ["adminKubeconfig"], "(admin)");
        expect(adminKubeconfigFindings([custom], config)).toEqual([]);
        expect(adminKubeconfigFindings([custom], { ...config, adminOutputs: ["adminKubeconfig"] })).toHaveLength(1);
    });
});
