/**
 * The chart mirror of a run: the repositories packaged here from the chart sources (package.ts),
 * or made elsewhere (`E2E_CHART_MIRROR`, what pull.ts makes of the published charts, as the GitHub
 * workflow does), served on a free loopback port (serve.ts) for the whole run. The server is a
 * tracked child: teardown stops it with every other process of the run.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { cache, logs, root } from "../runner/paths";
import { logged, track } from "../runner/processes";

/** Repository name (`istio`, `spiffe`, `jetstack`) -> URL: the stack's `chartRepositories`. */
export type Repositories = Record<string, string>;

/**
 * Packages the chart sources unless `E2E_CHART_MIRROR` names ready repositories, then serves them.
 * @param evidence the chart-mirror phase's: what is served (first), and where it came from
 * @returns the repositories' URLs
 */
export async function startChartMirror(evidence: string[]): Promise<Repositories> {
    const prebuilt = process.env.E2E_CHART_MIRROR;
    const outDir = prebuilt ?? path.join(cache, "charts");
    if (prebuilt === undefined) {
        // By default the shared chart sources beside the clone (charts/README.md).
        const sources = process.env.E2E_CHART_SOURCES ?? path.join(root, "../shared/upstream/charts");
        await logged("chart-package", process.execPath, ["--import", "tsx", path.join(root, "e2e/charts/package.ts"), sources, outDir]);
        evidence.push(`packaged the chart sources in ${sources}`);
    } else {
        evidence.push(`repositories from E2E_CHART_MIRROR=${prebuilt}, not packaged here`);
    }
    const repositories = await serve(outDir);
    evidence.unshift(`serving ${JSON.stringify(repositories)}`);
    return repositories;
}

/**
 * `node --import tsx e2e/charts/serve.ts` (not npx, which does not pass SIGTERM on); resolves with
 * the repository URLs it prints once listening.
 * @param outDir the folder holding one Helm repository per source
 */
async function serve(outDir: string): Promise<Repositories> {
    const server = track(
        spawn(process.execPath, ["--import", "tsx", path.join(root, "e2e/charts/serve.ts"), outDir, "127.0.0.1", "0"], {
            cwd: root,
            stdio: ["ignore", "pipe", fs.openSync(path.join(logs, "chart-mirror.log"), "a")],
        }),
    );
    const stdout = server.stdout;
    if (stdout === null) throw new Error("chart mirror: no stdout pipe");
    return new Promise((resolve, reject) => {
        let buffered = "";
        stdout.on("data", (chunk: Buffer) => {
            buffered += chunk.toString();
            const line = buffered.split("\n")[0];
            if (buffered.includes("\n")) resolve(JSON.parse(line) as Repositories);
        });
        server.on("exit", (code) => reject(new Error(`chart mirror exited ${code} before listening (log: ${logs}/chart-mirror.log)`)));
    });
}
