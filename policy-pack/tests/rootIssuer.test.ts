import { describe, expect, it } from "vitest";
import { rootCaSecretLabel } from "../../lib/rootCa";
import { effectiveConfig } from "../lib/definition";
import { definition, rootCaClusterIssuerFindings } from "../policies/noRootCaClusterIssuer";
import { UNKNOWN } from "../lib/values";
import { kubernetesObject, mutate, REMOVE } from "./fixtures";

describe("no-root-ca-cluster-issuer", () => {
    const config = effectiveConfig(definition);
    /** The layout the policy exists to refuse: the root in cert-manager's namespace behind a CA ClusterIssuer. */
    const rootSecret = kubernetesObject("v1", "Secret", "root-ca", {
        metadata: { name: "cluster-1-root-ca", namespace: "cert-manager", labels: { [rootCaSecretLabel]: "true" } },
        type: "kubernetes.io/tls",
        stringData: { "tls.crt": "(root)", "tls.key": "(key)" },
    });
    const clusterIssuer = kubernetesObject("cert-manager.io/v1", "ClusterIssuer", "root-ca-issuer", {
        metadata: { name: "cluster-1-root-ca" },
        spec: { ca: { secretName: "cluster-1-root-ca" } },
    });
    const findings = (...resources: Parameters<typeof rootCaClusterIssuerFindings>[0]) => rootCaClusterIssuerFindings(resources, config);

    it("recognises root Secrets by the label the program puts on them, in cert-manager's own namespace", () => {
        expect(config).toEqual({ rootSecretLabel: rootCaSecretLabel, clusterResourceNamespace: "cert-manager" });
        expect(definition.enforcementLevel).toBe("mandatory");
    });

    it("refuses a CA ClusterIssuer backed by a root Secret, naming the issuer", () => {
        const found = findings(rootSecret, clusterIssuer);
        expect(found).toEqual([{ urn: clusterIssuer.urn, message: expect.stringContaining('ClusterIssuer "cluster-1-root-ca" in cluster "cluster-1"') }]);
        expect(found[0].message).toContain("Secret cert-manager/cluster-1-root-ca, a domain root CA");
        expect(found[0].message).toContain("namespaced CA Issuer");
    });

    /** The program's own layout: the root copied into SPIRE's namespace behind a namespaced CA Issuer. */
    const spireRoot = mutate(rootSecret, ["metadata", "namespace"], "spire-server");
    const spireIssuer = kubernetesObject("cert-manager.io/v1", "Issuer", "root-ca-issuer-spire", {
        metadata: { name: "cluster-1-root-ca", namespace: "spire-server" },
        spec: { ca: { secretName: "cluster-1-root-ca" } },
    });
    const userCa = kubernetesObject("cert-manager.io/v1", "ClusterIssuer", "user-ca", {
        metadata: { name: "user-ca" },
        spec: { ca: { secretName: "user-ca" } },
    });

    // Each case starts from a valid stack and breaks one field of one resource.
    it.each([
        ["a CA ClusterIssuer names the root Secret", [rootSecret, userCa], () => [rootSecret, mutate(userCa, ["spec", "ca", "secretName"], "cluster-1-root-ca")]],
        ["the root moves into cert-manager's namespace under a ClusterIssuer naming it", [spireRoot, clusterIssuer], () => [mutate(spireRoot, ["metadata", "namespace"], "cert-manager"), clusterIssuer]],
        ["a Secret a CA ClusterIssuer uses is labelled a root", [mutate(rootSecret, ["metadata", "labels"], REMOVE), clusterIssuer], () => [rootSecret, clusterIssuer]],
        ["a self-signed ClusterIssuer turns CA on the root", [rootSecret, mutate(mutate(clusterIssuer, ["spec", "ca"], REMOVE), ["spec", "selfSigned"], {})], () => [rootSecret, mutate(clusterIssuer, ["spec", "selfSigned"], REMOVE)]],
    ])("flags the stack once %s", (_, valid, broken) => {
        expect(findings(...valid)).toEqual([]);
        const found = findings(...broken());
        expect(found).toHaveLength(1);
        expect(found[0].message).toContain("is a CA ClusterIssuer backed by Secret cert-manager/cluster-1-root-ca");
    });

    it("accepts the program's layout: namespaced CA Issuers on root copies in their own namespaces", () => {
        expect(findings(spireRoot, spireIssuer, mutate(spireRoot, ["metadata", "namespace"], "istio-system"), mutate(spireIssuer, ["metadata", "namespace"], "istio-system"))).toEqual([]);
    });

    it("compares within one cluster only", () => {
        expect(findings(kubernetesObject("v1", "Secret", "root-ca", rootSecret.props, "cluster-2"), clusterIssuer)).toEqual([]);
    });

    it("does not judge a secret name that is unknown in a preview", () => {
        expect(findings(rootSecret, mutate(clusterIssuer, ["spec", "ca", "secretName"], UNKNOWN))).toEqual([]);
    });

    it("follows a cluster resource namespace other than cert-manager's default", () => {
        const moved = mutate(rootSecret, ["metadata", "namespace"], "cm-resources");
        expect(findings(moved, clusterIssuer)).toEqual([]);
        expect(rootCaClusterIssuerFindings([moved, clusterIssuer], { ...config, clusterResourceNamespace: "cm-resources" })).toHaveLength(1);
    });

    it("recognises another label when configured", () => {
        const relabelled = mutate(rootSecret, ["metadata", "labels"], { "example.com/root": "yes" });
        expect(findings(relabelled, clusterIssuer)).toEqual([]);
        expect(rootCaClusterIssuerFindings([relabelled, clusterIssuer], { ...config, rootSecretLabel: "example.com/root" })).toHaveLength(1);
    });
});
