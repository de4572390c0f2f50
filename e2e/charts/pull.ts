/**
 * Mirrors the published charts the program installs, for a machine that reaches the public chart
 * repositories and has `helm` (the GitHub workflow's runner): `helm pull` of each chart at the
 * version versions.ts pins, from the repository versions.ts names, then `helm repo index`. The
 * result has the layout `package.ts` writes, so `npm run e2e:local` serves it as it is with
 * `E2E_CHART_MIRROR=<outDir>`.
 *
 *   node --import tsx e2e/charts/pull.ts <outDir>
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { chartRepositories } from "../../versions";
import { chartSources } from "./package";

/** The `helm` commands that mirror each pinned chart into `outDir/<repository>/`. */
export function pullCommands(outDir: string): string[][] {
    const commands = chartSources().map((source) => [
        "pull", source.name,
        "--repo", chartRepositories[source.repository],
        "--version", source.version,
        "--destination", path.join(outDir, source.repository),
    ]);
    const repositories = [...new Set(chartSources().map((source) => source.repository))];
    return [...commands, ...repositories.map((repository) => ["repo", "index", path.join(outDir, repository)])];
}

if (require.main === module) {
    const outDir = path.resolve(process.argv[2] ?? path.join(__dirname, "..", "..", ".e2e-cache", "published-charts"));
    for (const repository of new Set(chartSources().map((source) => source.repository))) {
        fs.rmSync(path.join(outDir, repository), { recursive: true, force: true });
        fs.mkdirSync(path.join(outDir, repository), { recursive: true });
    }
    for (const args of pullCommands(outDir)) {
        process.stderr.write(`helm ${args.join(" ")}\n`);
        execFileSync("helm", args, { stdio: "inherit" });
    }
    process.stdout.write(`${outDir}\n`);
}
