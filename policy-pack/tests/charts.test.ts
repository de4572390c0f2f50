import { describe, expect, it } from "vitest";
import { chartRepositories, defaultVersions } from "../../versions";
import { chartReferenceOf, definition, helmChartProblems } from "../policies/helmChartsPinned";
import { effectiveConfig } from "../lib/definition";
import { mutate, providerUrn, REMOVE, resource } from "./fixtures";

const config = effectiveConfig(definition);

const release = resource(
    "kubernetes:helm.sh/v3:Release",
    "cluster-1-spire",
    {
        chart: "spire",
        name: "spire",
        version: defaultVersions.spireChart,
        repositoryOpts: { repo: chartRepositories.spiffe },
    },
    { provider: providerUrn("cluster-1") },
);
const chartV4 = resource(
    "kubernetes:helm.sh/v4:Chart",
    "cluster-1-istio-base",
    { chart: "base", version: defaultVersions.istio, repositoryOpts: { repo: chartRepositories.istio } },
    { provider: providerUrn("cluster-1") },
);
/** cert-manager's component as the program declares it (components/certManagerRootCA.ts). */
const certManager = resource("kubernetes-cert-manager:index:CertManager", "cluster-1-cert-manager", {
    startupapicheck: { enabled: true },
    helmOptions: {
        name: "cert-manager",
        chart: "cert-manager",
        version: defaultVersions.certManager,
        namespace: "cert-manager",
        repositoryOpts: { repo: chartRepositories.jetstack },
        values: { crds: { enabled: true, keep: false } },
        timeout: 900,
    },
});

describe("helm-charts-pinned", () => {
    it("allows exactly the repositories versions.ts lists, by default", () => {
        expect(config.allowedRepositories).toEqual(Object.values(chartRepositories));
    });

    it.each([
        ["helm.v3 Release", release],
        ["helm.v4 Chart", chartV4],
        ["cert-manager component", certManager],
    ])("accepts a pinned %s from an allowed repository", (_, valid) => {
        expect(helmChartProblems(valid, config)).toEqual([]);
    });

    it("accepts the same repository spelled without its trailing slash and an OCI chart under an allowed prefix", () => {
        expect(helmChartProblems(mutate(release, ["repositoryOpts", "repo"], chartRepositories.spiffe.replace(/\/$/, "")), config)).toEqual([]);
        const oci = mutate(mutate(release, ["chart"], "oci://ghcr.io/spiffe/charts/spire"), ["repositoryOpts"], REMOVE);
        expect(helmChartProblems(oci, { allowedRepositories: ["oci://ghcr.io/spiffe/charts"] })).toEqual([]);
    });

    it("leaves a cert-manager component without helmOptions, as the real engine shows one its plugin registered, to its child Release", () => {
        expect(helmChartProblems(mutate(certManager, ["helmOptions"], REMOVE), { allowedRepositories: [chartRepositories.spiffe] })).toEqual([]);
        expect(chartReferenceOf(resource("kubernetes-cert-manager:index:CertManager", "cluster-1-cert-manager", {}))).toBeUndefined();
    });

    it("accepts the cert-manager component without repositoryOpts: it falls back to the jetstack repository", () => {
        expect(helmChartProblems(mutate(certManager, ["helmOptions", "repositoryOpts"], REMOVE), config)).toEqual([]);
        expect(
            helmChartProblems(mutate(certManager, ["helmOptions", "repositoryOpts"], REMOVE), { allowedRepositories: [chartRepositories.spiffe] }),
        ).toEqual([expect.stringContaining('comes from "https://charts.jetstack.io"')]);
    });

    it.each([
        ["no version", ["version"], REMOVE, "has no version, so Helm installs whatever is newest"],
        ["an empty version", ["version"], "", "has no version"],
        ["a caret range", ["version"], "^0.30.0", 'version "^0.30.0" is not one exact release'],
        ["a tilde range", ["version"], "~0.30", 'version "~0.30" is not one exact release'],
        ["a partial version", ["version"], "0.30", 'version "0.30" is not one exact release'],
        ["a wildcard", ["version"], "0.30.x", 'version "0.30.x" is not one exact release'],
        ["a comparison", ["version"], ">=0.30.0", 'version ">=0.30.0" is not one exact release'],
        ["no repository", ["repositoryOpts"], REMOVE, "names no chart repository; set repositoryOpts.repo"],
        ["a foreign repository", ["repositoryOpts", "repo"], "https://charts.example.com", 'comes from "https://charts.example.com", which is not an allowed chart repository'],
    ])("flags a Release with %s", (_, path, value, message) => {
        const problems = helmChartProblems(mutate(release, path, value), config);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toContain(message);
        expect(problems[0]).toContain('Helm release "cluster-1-spire"');
    });

    it("flags a chart named through a local repo alias, which says nothing about where it comes from", () => {
        const noRepository = mutate(release, ["repositoryOpts"], REMOVE);
        expect(helmChartProblems(mutate(noRepository, ["chart"], "spiffe/spire"), config)).toEqual([
            expect.stringContaining("names no chart repository"),
        ]);
    });

    it.each([
        ["no version", ["version"], REMOVE, "has no version"],
        ["a range", ["version"], "1.x", 'version "1.x" is not one exact release'],
        ["a foreign repository", ["repositoryOpts", "repo"], "https://example.com/charts", "not an allowed chart repository"],
    ])("flags a v4 Chart with %s", (_, path, value, message) => {
        expect(helmChartProblems(mutate(chartV4, path, value), config)).toEqual([expect.stringContaining(message)]);
    });

    it.each([
        ["no version (the component then installs the latest)", ["helmOptions", "version"], REMOVE, "has no version"],
        ["a range", ["helmOptions", "version"], "v1.x", 'version "v1.x" is not one exact release'],
        ["a foreign repository", ["helmOptions", "repositoryOpts", "repo"], "https://example.com", "not an allowed chart repository"],
    ])("flags the cert-manager component's helmOptions with %s", (_, path, value, message) => {
        const problems = helmChartProblems(mutate(certManager, path, value), config);
        expect(problems).toEqual([expect.stringContaining(message)]);
        expect(problems[0]).toContain('cert-manager component "cluster-1-cert-manager" (helmOptions)');
    });

    it("ignores resources that install no chart", () => {
        expect(helmChartProblems(resource("kubernetes:core/v1:Namespace", "ns", { metadata: { name: "x" } }), config)).toEqual([]);
    });
});
