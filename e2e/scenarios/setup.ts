/**
 * The phases every scenario starts with: the toolchain present (built first where it is not),
 * the chart mirror serving, a cluster and a root CA per domain.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { startChartMirror } from "../charts/mirror";
import { Domain } from "../clusters/domains";
import { clusterUp } from "../clusters/lifecycle";
import { makeRootCa } from "../clusters/rootCa";
import { providerStandIn, StandIn, unbuildable } from "../engine/providerStandIn";
import { logs, root, work } from "../runner/paths";
import { check, phase } from "../runner/phases";
import { run } from "../runner/processes";
import { ensureToolchain, toolchainBinaries } from "../runner/toolchain";
import { Setup } from "./context";

/**
 * preflight, chart-mirror, clusters, root-cas; the run's work folder recreated first.
 * @param clusterDomains the domains whose clusters this run needs
 */
export async function setup(clusterDomains: Domain[]): Promise<Setup> {
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(logs, { recursive: true });
    let standIn: StandIn = { version: "", sdkVersion: "" };

    const pre = await phase("preflight", true, async (evidence) => {
        await ensureToolchain(evidence);
        check(fs.existsSync(path.join(root, "node_modules/@pulumi/pulumi/package.json")), "Node dependencies missing, run: npm ci");
        await run("openssl", ["version"]);
        standIn = providerStandIn();
        evidence.unshift(`toolchain: ${toolchainBinaries.length} binaries present`);
        evidence.push(`kubernetes provider ${standIn.version} installed as ${standIn.sdkVersion} (a stand-in: the SDK requests ${standIn.sdkVersion}, only ${standIn.version} builds here)`);
        evidence.push(`not buildable here, so not installed: ${unbuildable.join(", ")}; a resource needing one fails the phase that declares it`);
    });

    let repositories: Setup["repositories"] = {};
    const charts = await phase("chart-mirror", pre, async (evidence) => {
        repositories = await startChartMirror(evidence);
    });

    const clusters = await phase("clusters", charts, async (evidence) => {
        for (const domain of clusterDomains) await clusterUp(domain, evidence);
    });

    const roots = await phase("root-cas", clusters, async (evidence) => {
        for (const domain of clusterDomains) await makeRootCa(domain, evidence);
    });
    return { ready: roots, repositories, standIn };
}
