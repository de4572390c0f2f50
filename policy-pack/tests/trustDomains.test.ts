import { describe, expect, it } from "vitest";
import { trustDomainProblem } from "../lib/spiffe";
import { trustDomainNameProblems } from "../policies/trustDomainNames";
import { trustDomainUniquenessFindings } from "../policies/trustDomainsUnique";
import {
    clusterSpiffeId,
    domains,
    federatedTrustDomain,
    istiodRelease,
    meshStack,
    mutate,
    REMOVE,
    replaced,
    spireRelease,
} from "./fixtures";

const [foo, bar] = domains;

describe("SPIFFE trust domain names", () => {
    it.each(["foo.com", "bar.com", "example-org", "td_1.internal", "a"])("accepts %s", (name) => {
        expect(trustDomainProblem(name)).toBeUndefined();
    });

    it.each([
        ["", "is empty"],
        ["spiffe://foo.com", "includes a scheme"],
        ["foo.com:8443", "includes a port"],
        ["foo.com/ns", "includes a path"],
        ["Foo.com", "has upper-case letters"],
        ["foo com", "has characters other than"],
        ["foo@com", "has characters other than"],
        ["a".repeat(256), "is longer than 255 characters"],
    ])("rejects %j: %s", (name, problem) => {
        expect(trustDomainProblem(name)).toContain(problem);
    });
});

describe("spiffe-trust-domain-names", () => {
    const release = spireRelease(foo);
    const federation = federatedTrustDomain(foo, bar);
    const spiffeId = clusterSpiffeId(foo, [bar.trustDomain]);
    const istiod = istiodRelease(foo, [bar]);

    it("accepts the valid names of a compliant mesh", () => {
        for (const valid of meshStack()) expect(trustDomainNameProblems(valid)).toEqual([]);
    });

    it.each([
        ["SPIRE release global.spire.trustDomain", release, ["values", "global", "spire", "trustDomain"], 'Helm release "spire" (chart spire) in cluster "cluster-1" global.spire.trustDomain "spiffe://foo.com" includes a scheme'],
        ["ClusterFederatedTrustDomain trustDomain", federation, ["spec", "trustDomain"], 'ClusterFederatedTrustDomain "bar.com" in cluster "cluster-1" trustDomain "spiffe://foo.com" includes a scheme'],
        ["ClusterSPIFFEID federatesWith", spiffeId, ["spec", "federatesWith", 0], 'ClusterSPIFFEID "mesh-workloads" in cluster "cluster-1" federatesWith[0] "spiffe://foo.com" includes a scheme'],
        ["istiod meshConfig.trustDomain", istiod, ["values", "meshConfig", "trustDomain"], 'Helm release "istiod" (chart istiod) in cluster "cluster-1" meshConfig.trustDomain "spiffe://foo.com" includes a scheme'],
        [
            "istiod meshConfig.trustDomainAliases",
            mutate(istiod, ["values", "meshConfig", "trustDomainAliases"], ["old.foo.com"]),
            ["values", "meshConfig", "trustDomainAliases", 0],
            'Helm release "istiod" (chart istiod) in cluster "cluster-1" meshConfig.trustDomainAliases[0] "spiffe://foo.com" includes a scheme',
        ],
        [
            "istiod meshConfig.caCertificates[].trustDomains",
            istiod,
            ["values", "meshConfig", "caCertificates", 0, "trustDomains", 0],
            'Helm release "istiod" (chart istiod) in cluster "cluster-1" meshConfig.caCertificates[0].trustDomains[0] "spiffe://foo.com" includes a scheme',
        ],
    ])("flags an invalid name in %s", (_, valid, path, message) => {
        expect(trustDomainNameProblems(mutate(valid, path, "spiffe://foo.com"))).toEqual([
            `${message}; use a bare SPIFFE trust domain name (lowercase letters, digits, '.', '-' and '_'; no scheme, port or path), e.g. foo.com.`,
        ]);
    });

    it("flags a SPIRE release that leaves the trust domain to the chart's example.org", () => {
        expect(trustDomainNameProblems(mutate(release, ["values", "global", "spire", "trustDomain"], REMOVE))).toEqual([
            expect.stringContaining("global.spire.trustDomain is not set (the chart falls back to example.org)"),
        ]);
    });

    it("takes the server subchart's trust domain when the global one is empty", () => {
        const local = mutate(mutate(release, ["values", "global", "spire", "trustDomain"], ""), ["values", "spire-server", "trustDomain"], "Foo.com");
        expect(trustDomainNameProblems(local)).toEqual([expect.stringContaining('"Foo.com" has upper-case letters')]);
    });

    it("flags a ClusterFederatedTrustDomain without a trust domain and a repeated federatesWith entry", () => {
        expect(trustDomainNameProblems(mutate(federation, ["spec", "trustDomain"], REMOVE))).toEqual([expect.stringContaining("trustDomain is not set")]);
        expect(trustDomainNameProblems(mutate(spiffeId, ["spec", "federatesWith"], ["bar.com", "bar.com"]))).toEqual([
            'ClusterSPIFFEID "mesh-workloads" in cluster "cluster-1" lists "bar.com" in federatesWith more than once; list each peer trust domain once.',
        ]);
    });

    it("checks chart-managed identities in the SPIRE release's values", () => {
        const managed = mutate(
            release,
            ["values", "spire-server", "controllerManager", "identities"],
            {
                clusterSPIFFEIDs: { sidecars: { federatesWith: ["bar.com:8443"] }, off: { enabled: false, federatesWith: ["BAD"] } },
                clusterFederatedTrustDomains: { bar: { trustDomain: "bar.com/x" } },
            },
        );
        expect(trustDomainNameProblems(managed)).toEqual([
            expect.stringContaining('clusterFederatedTrustDomains.bar trustDomain "bar.com/x" includes a path'),
            expect.stringContaining('clusterSPIFFEIDs.sidecars federatesWith[0] "bar.com:8443" includes a port'),
        ]);
    });
});

describe("spiffe-trust-domains-unique", () => {
    it("accepts a mesh whose SPIRE installations each have their own trust domain", () => {
        expect(trustDomainUniquenessFindings(meshStack())).toEqual([]);
    });

    it("flags two SPIRE releases sharing a trust domain, on each of them", () => {
        const stack = meshStack();
        const duplicate = mutate(spireRelease(bar), ["values", "global", "spire", "trustDomain"], foo.trustDomain);
        const findings = trustDomainUniquenessFindings(replaced(stack, duplicate));
        expect(findings.map((finding) => finding.urn).sort()).toEqual([spireRelease(foo).urn, spireRelease(bar).urn].sort());
        for (const finding of findings) {
            expect(finding.message).toMatch(/uses trust domain "foo.com", as does Helm release "spire" \(chart spire\) in cluster "cluster-[12]"/);
            expect(finding.message).toContain("give every SPIRE installation (every domain in config) its own trust domain");
        }
    });

    it("flags a second federation with the same peer in one cluster, including a chart-managed one", () => {
        const stack = meshStack();
        const chartManaged = mutate(spireRelease(foo), ["values", "spire-server", "controllerManager", "identities", "clusterFederatedTrustDomains"], {
            bar: { trustDomain: bar.trustDomain },
        });
        const findings = trustDomainUniquenessFindings(replaced(stack, chartManaged));
        expect(findings).toHaveLength(1);
        expect(findings[0].message).toMatch(/federates cluster "cluster-1" with "bar.com", which .* already does; keep one ClusterFederatedTrustDomain per peer trust domain and cluster/);
    });
});
