import { describe, expect, it } from "vitest";
import { loadMeshConfig } from "../config/load";
import { ConfigError } from "../config/errors";
import { parseMeshConfig, RawConfig } from "../config/parse";
import { deployMesh } from "../mesh";
import { chartRepositories } from "../versions";
import { runProgramOnce } from "./harness/program";
import { projectConfigOf, stackNames } from "./harness/stacks";

const releaseType = "kubernetes:helm.sh/v3:Release";
const program = () => deployMesh(loadMeshConfig());

/** Where each chart comes from upstream; a mirror must serve the same chart names. */
const sourceOfChart: Record<string, keyof typeof chartRepositories> = {
    base: "istio",
    istiod: "istio",
    gateway: "istio",
    "spire-crds": "spiffe",
    spire: "spiffe",
    "cert-manager": "jetstack",
};

const mirrors = {
    istio: "http://127.0.0.1:8879/istio",
    spiffe: "https://charts.internal.example/spiffe",
    jetstack: "http://127.0.0.1:8879/jetstack",
};

describe("chart repositories", () => {
    it.each(stackNames)("%s installs every chart from its public repository by default", async (stack) => {
        const run = await runProgramOnce(program, { stack });
        const releases = run.ofType(releaseType);
        expect(releases.length).toBeGreaterThan(0);
        for (const release of releases) {
            expect(release.inputs.repositoryOpts, release.name).toEqual({ repo: chartRepositories[sourceOfChart[release.inputs.chart]] });
        }
        expect(new Set(releases.map((r) => r.inputs.chart))).toEqual(new Set(Object.keys(sourceOfChart)));
    });

    it.each(stackNames)("%s installs every chart, cert-manager's too, from configured mirrors", async (stack) => {
        const run = await runProgramOnce(program, { stack, projectConfig: { ...projectConfigOf(stack), chartRepositories: mirrors } });
        const releases = run.ofType(releaseType);
        expect(new Set(releases.map((r) => r.inputs.chart))).toEqual(new Set(Object.keys(sourceOfChart)));
        for (const release of releases) {
            expect(release.inputs.repositoryOpts, release.name).toEqual({ repo: mirrors[sourceOfChart[release.inputs.chart]] });
        }
        // One cert-manager per cluster, each from the jetstack mirror (checked in the loop above).
        expect(releases.filter((r) => r.inputs.chart === "cert-manager").map((r) => r.provider).sort()).toEqual(
            run.ofType("pulumi:providers:kubernetes").map((p) => p.urn).sort(),
        );
    });

    it("mirrors one source and keeps the public repository of the others", () => {
        const mesh = parseMeshConfig({ ...(projectConfigOf("cluster-kind") as RawConfig), chartRepositories: { spiffe: mirrors.spiffe } });
        expect(mesh.chartRepositories).toEqual({ ...chartRepositories, spiffe: mirrors.spiffe });
    });

    it("takes the value as the CLI passes it (JSON text) and treats the declared default {} as no mirror", () => {
        const base = projectConfigOf("cluster-kind") as RawConfig;
        expect(parseMeshConfig({ ...base, chartRepositories: JSON.stringify({ istio: mirrors.istio }) }).chartRepositories.istio).toBe(mirrors.istio);
        expect(parseMeshConfig({ ...base, chartRepositories: "{}" }).chartRepositories).toEqual(chartRepositories);
    });

    it("refuses an unknown source, a URL that is not http(s) and a value that is not an object, naming the key", () => {
        const base = projectConfigOf("cluster-kind") as RawConfig;
        const problems = (value: unknown) => {
            try {
                parseMeshConfig({ ...base, chartRepositories: value });
            } catch (error) {
                return (error as ConfigError).problems.map((p) => `${p.key} = ${JSON.stringify(p.value)}: ${p.allowed}`);
            }
            throw new Error("expected a rejection");
        };
        expect(problems({ cilium: "https://helm.cilium.io", istio: "oci://registry.example/istio" })).toEqual([
            'chartRepositories.istio = "oci://registry.example/istio": must be the http:// or https:// URL of a Helm chart repository (the folder holding index.yaml)',
            'chartRepositories.cilium = "https://helm.cilium.io": is not a chart source; allowed: istio, spiffe, jetstack',
        ]);
        expect(problems(["https://mirror"])).toEqual([
            'chartRepositories = ["https://mirror"]: must be an object mapping chart sources (istio, spiffe, jetstack) to repository URLs',
        ]);
    });
});
