import { describe, expect, it } from "vitest";
import { effectiveConfig } from "../lib/definition";
import { definition as strictMtlsDefinition, strictMtlsFindings } from "../policies/istioStrictMtls";
import { istioTrustDomainFindings } from "../policies/istioTrustDomain";
import { Domain, domains, istiodRelease, kubernetesObject, meshStack, meshWidePeerAuthentication, mutate, providerUrn, REMOVE, replaced, without } from "./fixtures";

const [foo, bar] = domains;
const config = effectiveConfig(strictMtlsDefinition);

describe("istio-strict-mtls", () => {
    it("uses istio-system, Istio's root namespace, by default", () => {
        expect(config.rootNamespace).toBe("istio-system");
    });

    it("accepts a mesh with a mesh-wide STRICT PeerAuthentication in every cluster", () => {
        expect(strictMtlsFindings(meshStack(), config)).toEqual([]);
    });

    it("flags a cluster without one, on its provider", () => {
        const stack = without(meshStack(), meshWidePeerAuthentication(bar).urn);
        expect(strictMtlsFindings(stack, config)).toEqual([
            {
                urn: providerUrn("cluster-2"),
                message:
                    'cluster "cluster-2" has no mesh-wide STRICT PeerAuthentication; declare a PeerAuthentication (security.istio.io/v1) in istio-system without a selector and with spec.mtls.mode: STRICT, so no workload accepts plain text.',
            },
        ]);
    });

    const meshWide = meshWidePeerAuthentication(foo);
    it.each([
        ["in another namespace", ["metadata", "namespace"], "default"],
        ["with a workload selector", ["spec", "selector"], { matchLabels: { app: "helloworld" } }],
        ["without a mode", ["spec", "mtls"], REMOVE],
        ["in UNSET mode", ["spec", "mtls", "mode"], "UNSET"],
    ])("does not count a PeerAuthentication %s as mesh-wide STRICT", (_, path, value) => {
        const findings = strictMtlsFindings(replaced(meshStack(), mutate(meshWide, path, value)), config);
        expect(findings).toEqual([{ urn: providerUrn("cluster-1"), message: expect.stringContaining('cluster "cluster-1" has no mesh-wide STRICT PeerAuthentication') }]);
    });

    it("flags a mesh-wide PERMISSIVE policy both as missing STRICT and as weakening", () => {
        const permissive = mutate(meshWide, ["spec", "mtls", "mode"], "PERMISSIVE");
        expect(strictMtlsFindings(replaced(meshStack(), permissive), config)).toEqual([
            { urn: providerUrn("cluster-1"), message: expect.stringContaining("has no mesh-wide STRICT PeerAuthentication") },
            {
                urn: permissive.urn,
                message: 'PeerAuthentication "default" in cluster "cluster-1" sets mtls.mode PERMISSIVE, weakening the mesh-wide STRICT mTLS; remove it or set STRICT.',
            },
        ]);
    });

    it("flags a namespace or port-level exception that lowers mTLS", () => {
        const exception = kubernetesObject("security.istio.io/v1", "PeerAuthentication", "legacy", {
            metadata: { name: "legacy", namespace: "default" },
            spec: { selector: { matchLabels: { app: "legacy" } }, mtls: { mode: "STRICT" }, portLevelMtls: { "8080": { mode: "DISABLE" } } },
        });
        expect(strictMtlsFindings([...meshStack(), exception], config)).toEqual([
            { urn: exception.urn, message: expect.stringContaining('PeerAuthentication "legacy" in cluster "cluster-1" sets portLevelMtls[8080].mode DISABLE') },
        ]);
    });

    it("counts every cluster with Kubernetes resources, even one with nothing of Istio yet", () => {
        const lone = kubernetesObject("v1", "Namespace", "apps", { metadata: { name: "apps" } }, "cluster-9");
        expect(strictMtlsFindings([...meshStack(), lone], config).map((finding) => finding.urn)).toEqual([providerUrn("cluster-9")]);
    });

    it("honours another root namespace from config", () => {
        expect(strictMtlsFindings(meshStack(), { rootNamespace: "mesh-root" })).toHaveLength(2);
    });
});

describe("istio-trust-domain", () => {
    const baz: Domain = { cluster: "cluster-3", trustDomain: "baz.com", address: "203.0.113.12" };
    const istiod = istiodRelease(foo, [bar]);

    it("accepts istiod using the SPIRE trust domain and accepting every peer", () => {
        expect(istioTrustDomainFindings(meshStack())).toEqual([]);
        expect(istioTrustDomainFindings(meshStack([foo, bar, baz]))).toEqual([]);
    });

    it("flags istiod left on Istio's default trust domain", () => {
        const defaulted = mutate(istiod, ["values", "meshConfig", "trustDomain"], REMOVE);
        expect(istioTrustDomainFindings(replaced(meshStack(), defaulted))).toEqual([
            {
                urn: istiod.urn,
                message:
                    'Helm release "istiod" (chart istiod) in cluster "cluster-1" has meshConfig.trustDomain "cluster.local" but SPIRE in the same cluster issues identities in foo.com; set meshConfig.trustDomain: foo.com.',
            },
        ]);
    });

    it("flags a peer domain istiod does not accept, and accepts one listed in caCertificates", () => {
        const notAccepted = mutate(istiod, ["values", "meshConfig", "caCertificates"], []);
        expect(istioTrustDomainFindings(replaced(meshStack(), notAccepted))).toEqual([
            { urn: istiod.urn, message: expect.stringContaining("does not accept peer trust domain bar.com; add it to meshConfig.caCertificates[].trustDomains") },
        ]);
        const withBundleUrl = mutate(notAccepted, ["values", "meshConfig", "caCertificates"], [{ spiffeBundleUrl: "https://x", trustDomains: ["bar.com"] }]);
        expect(istioTrustDomainFindings(replaced(meshStack(), withBundleUrl))).toEqual([]);
    });

    it("flags a peer domain listed as a trust domain alias, where its identities pass for this domain's", () => {
        const asAlias = mutate(istiod, ["values", "meshConfig", "trustDomainAliases"], ["bar.com"]);
        expect(istioTrustDomainFindings(replaced(meshStack(), asAlias))).toEqual([
            { urn: istiod.urn, message: expect.stringContaining("lists peer trust domain bar.com in meshConfig.trustDomainAliases") },
        ]);
        // Even alongside caCertificates: the alias alone rewrites principals.
        const onlyAlias = mutate(mutate(istiod, ["values", "meshConfig", "caCertificates"], []), ["values", "meshConfig", "trustDomainAliases"], ["bar.com"]);
        expect(istioTrustDomainFindings(replaced(meshStack(), onlyAlias))).toHaveLength(1);
        // An alias that is no peer (a trust domain migration) is not this policy's business.
        expect(istioTrustDomainFindings(replaced(meshStack(), mutate(istiod, ["values", "meshConfig", "trustDomainAliases"], ["old.foo.com"])))).toEqual([]);
    });
});
