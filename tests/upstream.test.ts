import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadMeshConfig } from "../config/load";
import { deployMesh } from "../mesh";
import { defaultVersions } from "../versions";
import { runProgram } from "./harness/program";
import { upstreamFolders, upstreamRoot } from "./harness/schemas";
import { stackNames } from "./harness/stacks";

/** The upstream data the tests validate against must be the data of the charts installed. */
describe("pinned versions and the upstream data", () => {
    it("the SPIRE chart data is the pinned chart's", () => {
        const chart = parse(readFileSync(join(upstreamRoot, upstreamFolders.spire, "spire", "Chart.yaml"), "utf8")) as { version: string };
        expect(chart.version).toBe(defaultVersions.spireChart);
    });

    it.each(stackNames)("%s installs every chart at the version its upstream data describes", async (stack) => {
        const run = await runProgram(() => deployMesh(loadMeshConfig()), { stack });
        const releases = run.ofType("kubernetes:helm.sh/v3:Release");
        // Folder names carry the version of the data inside (istio-<v>, spire-chart-<v>, ...).
        const dataVersion: Record<string, string> = {
            base: upstreamFolders.istio.replace("istio-", ""),
            istiod: upstreamFolders.istio.replace("istio-", ""),
            gateway: upstreamFolders.istio.replace("istio-", ""),
            spire: upstreamFolders.spire.replace("spire-chart-", ""),
            "spire-crds": upstreamFolders.spireCrds.replace("spire-crds-", ""),
        };
        expect(releases.length).toBeGreaterThan(0);
        for (const release of releases) {
            expect(dataVersion[release.inputs.chart], `${release.name}: chart ${release.inputs.chart}`).toBeDefined();
            expect(release.inputs.version, release.name).toBe(dataVersion[release.inputs.chart]);
        }
        const certManagers = run.ofType("kubernetes-cert-manager:index:CertManager");
        expect(certManagers).toHaveLength(2);
        for (const certManager of certManagers) {
            expect(certManager.inputs.helmOptions.version).toBe(upstreamFolders.certManager.replace("cert-manager-", ""));
        }
    });
});
