import { describe, expect, it } from "vitest";
import { fromDeclared } from "../lib/resource";
import { sensitiveValueProblems } from "../policies/sensitiveValuesSecret";
import { istioTrustDomainFindings } from "../policies/istioTrustDomain";

/** What the mock runtime records for a value a preview does not know (Pulumi's wire sentinel). */
const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const provider = "urn:pulumi:s::p::pulumi:providers:kubernetes::cluster-1";

const spire = (trustDomain: string, cluster = provider) =>
    fromDeclared({
        type: "kubernetes:helm.sh/v3:Release",
        name: "spire",
        urn: `urn:pulumi:s::p::kubernetes:helm.sh/v3:Release::spire-${trustDomain}`,
        inputs: { chart: "spire", name: "spire", values: { global: { spire: { trustDomain } } } },
        provider: cluster,
        secretInputPaths: [],
    });
const istiod = (values: unknown) =>
    fromDeclared({
        type: "kubernetes:helm.sh/v3:Release",
        name: "istiod",
        urn: "urn:pulumi:s::p::kubernetes:helm.sh/v3:Release::istiod",
        inputs: { chart: "istiod", name: "istiod", values },
        provider,
        secretInputPaths: [],
    });

describe("values a preview does not know yet are not judged", () => {
    it("an unknown private key is not reported as a plain one, a known plain one is", () => {
        const cert = (privateKeyPem: string) =>
            fromDeclared({
                type: "tls:index/selfSignedCert:SelfSignedCert",
                name: "root",
                urn: "urn:pulumi:s::p::tls:index/selfSignedCert:SelfSignedCert::root",
                inputs: { privateKeyPem },
                secretInputPaths: [],
            });
        expect(sensitiveValueProblems(cert(unknown))).toEqual([]);
        expect(sensitiveValueProblems(cert("-----BEGIN EC PRIVATE KEY-----\nMHc=\n-----END EC PRIVATE KEY-----\n"))).toHaveLength(1);
    });

    it("istiod values that are unknown as a whole are skipped; known wrong ones are reported", () => {
        const peer = spire("bar.com", "urn:pulumi:s::p::pulumi:providers:kubernetes::cluster-2");
        expect(istioTrustDomainFindings([spire("foo.com"), peer, istiod(unknown)])).toEqual([]);
        const findings = istioTrustDomainFindings([spire("foo.com"), peer, istiod({ meshConfig: { trustDomain: "cluster.local" } })]);
        expect(findings.map((f) => f.message).join("\n")).toMatch(/meshConfig\.trustDomain "cluster\.local"/);
    });
});
