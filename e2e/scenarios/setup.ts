/**
 * The phases every scenario starts with: the toolchain present (built first where it is not),
 * the chart mirror serving, a cluster per domain and, where the scenario supplies them, a root CA
 * per domain (otherwise the program generates them, as the committed stacks do).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { startChartMirror } from "../charts/mirror";
import { Domain } from "../clusters/domains";
import { clusterUp } from "../clusters/lifecycle";
import { makeRootCa } from "../clusters/rootCa";
import { resourcePlugins, sdkVersionOf, stampedVersion } from "../engine/plugins";
import { logs, root, work } from "../runner/paths";
import { check, phase } from "../runner/phases";
import { run } from "../runner/processes";
import { ensureToolchain, toolchainBinaries } from "../runner/toolchain";
import { Setup } from "./context";

/**
 * preflight, chart-mirror, clusters and (for supplied roots) root-cas; the run's work folder recreated first.
 * @param clusterDomains the domains whose clusters this run brings up here (none: no clusters phase)
 * @param roots `supplied`: a root per domain made here, for the scenario to put in config; `generated`: none, the program makes them
 */
export async function setup(clusterDomains: Domain[], roots: "supplied" | "generated"): Promise<Setup> {
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(logs, { recursive: true });

    const pre = await phase("preflight", true, async (evidence) => {
        await ensureToolchain(evidence);
        check(fs.existsSync(path.join(root, "node_modules/@pulumi/pulumi/package.json")), "Node dependencies missing, run: npm ci");
        await run("openssl", ["version"]);
        evidence.unshift(`toolchain: ${toolchainBinaries.length} binaries present`);
        for (const plugin of resourcePlugins) {
            const pinned = sdkVersionOf(plugin.sdk);
            check(stampedVersion(plugin) === pinned, `pulumi-resource-${plugin.name} was built as ${stampedVersion(plugin)}, but package.json pins ${plugin.sdk} ${pinned}: rebuild it (e2e/build-toolchain.sh ${plugin.family})`);
        }
        evidence.push(`resource plugins, each built from its pinned release's source: ${resourcePlugins.map((plugin) => `${plugin.name} ${stampedVersion(plugin)}`).join(", ")}`);
    });

    let repositories: Setup["repositories"] = {};
    const charts = await phase("chart-mirror", pre, async (evidence) => {
        repositories = await startChartMirror(evidence);
    });

    // No clusters to bring up: the kind scenario's program creates its own (through kind's stand-in).
    const clusters = clusterDomains.length === 0 ? charts : await phase("clusters", charts, async (evidence) => {
        for (const domain of clusterDomains) await clusterUp(domain, evidence);
    });

    if (roots === "generated") return { ready: clusters, repositories, roots };
    const made = await phase("root-cas", clusters, async (evidence) => {
        for (const domain of clusterDomains) await makeRootCa(domain, evidence);
    });
    return { ready: made, repositories, roots };
}
