import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadMeshConfig } from "../config/load";
import { deployMesh } from "../mesh";
import { defaultVersions } from "../versions";
import { factsFiles, factsFolderName, factsProblems, factsSets, requiredFiles } from "../scripts/upstream-facts/layout";
import { runProgram } from "./harness/program";
import { helmInstallsOf } from "./harness/helmInstalls";
import { factsManifest } from "./harness/upstreamFacts";
import { stackNames } from "./harness/stacks";

describe("upstream facts for the pinned versions", () => {
    it("upstream-facts/ holds complete facts for every version versions.ts pins", () => {
        expect(factsProblems(defaultVersions)).toEqual([]);
    });

    it("a pinned version without facts is a problem that names the refresh command", () => {
        const problems = factsProblems({ ...defaultVersions, certManager: "v0.0.0-unextracted" });
        expect(problems).toHaveLength(1);
        expect(problems[0]).toContain("cert-manager-v0.0.0-unextracted is missing");
        expect(problems[0]).toContain("npm run facts:refresh");
    });

    it("an incomplete facts folder, or one extracted for another version, is a problem", () => {
        const root = mkdtempSync(join(tmpdir(), "facts-test-"));
        try {
            for (const spec of factsSets) {
                const folder = join(root, factsFolderName(spec, defaultVersions[spec.pin]));
                mkdirSync(folder);
                for (const file of requiredFiles(spec)) writeFileSync(join(folder, file), "{}");
                const manifest = { pin: spec.pin, version: spec.pin === "istio" ? "1.0.0" : defaultVersions[spec.pin], charts: {} };
                writeFileSync(join(folder, factsFiles.manifest), JSON.stringify(manifest));
            }
            const certManager = factsSets.find((s) => s.pin === "certManager")!;
            rmSync(join(root, factsFolderName(certManager, defaultVersions.certManager), factsFiles.crds));
            const problems = factsProblems(defaultVersions, root);
            expect(problems).toHaveLength(2);
            expect(problems.find((p) => p.includes("istio"))).toMatch(/holds istio 1\.0\.0; run `npm run facts:refresh/);
            expect(problems.find((p) => p.includes("cert-manager"))).toMatch(/lacks crds\.json; run `npm run facts:refresh/);
        } finally {
            rmSync(root, { recursive: true, force: true });
        }
    });
});

/** The upstream facts the tests validate against must be the facts of the charts installed. */
describe("pinned versions and the upstream facts", () => {
    it("the SPIRE chart facts are the pinned chart's", () => {
        expect(factsManifest("spireChart").charts.spire).toBe(defaultVersions.spireChart);
    });

    it.each(stackNames)("%s installs every chart at the version its upstream facts describe", async (stack) => {
        const run = await runProgram(() => deployMesh(loadMeshConfig()), { stack });
        // Releases, and cert-manager's component (its helmOptions).
        const releases = helmInstallsOf(run.resources);
        // Each facts manifest records the version its facts were extracted for.
        const dataVersion: Record<string, string> = {
            base: factsManifest("istio").version,
            istiod: factsManifest("istio").version,
            gateway: factsManifest("istio").version,
            spire: factsManifest("spireChart").version,
            "spire-crds": factsManifest("spireCrdsChart").version,
            "cert-manager": factsManifest("certManager").version,
        };
        expect(releases.length).toBeGreaterThan(0);
        for (const release of releases) {
            expect(dataVersion[release.chart], `${release.resource.name}: chart ${release.chart}`).toBeDefined();
            expect(release.version, release.resource.name).toBe(dataVersion[release.chart]);
        }
        expect(releases.filter((r) => r.chart === "cert-manager").map((r) => r.resource.type)).toEqual([
            "kubernetes-cert-manager:index:CertManager",
            "kubernetes-cert-manager:index:CertManager",
        ]);
    });
});
