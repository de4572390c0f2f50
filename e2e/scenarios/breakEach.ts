/**
 * `--break all` (`npm run e2e:break`): every break of breaks/catalogue.ts, one after the other,
 * each in a process of its own (a run's phases, clusters and program copy are its own); one phase
 * per break in this run's report, carrying that run's `break-caught` evidence.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { breaks } from "../breaks/catalogue";
import { cache, logs, root } from "../runner/paths";
import { abort, Phase, phases, progress } from "../runner/phases";

/**
 * @param entry the CLI's own file (e2e/local.ts), run again per break with `--break NAME`
 * @returns 0 when every break was caught where it should be
 */
export async function breakEach(entry: string): Promise<number> {
    for (const name of Object.keys(breaks)) {
        if (abort.signal.aborted) break;
        progress("break", `${name}: ${breaks[name].what}`);
        const t0 = Date.now();
        const child = spawn(process.execPath, [...process.execArgv, entry, "--break", name], { cwd: root, stdio: "inherit" });
        const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
        const verdict = JSON.parse(fs.readFileSync(path.join(cache, `report-break-${name}.json`), "utf8")) as { phases: Phase[] };
        const caught = verdict.phases.find((p) => p.name === "break-caught");
        // The next run recreates the work folder: keep a failed run's logs beside it.
        if (code !== 0 && fs.existsSync(logs)) fs.cpSync(logs, path.join(cache, `logs-break-${name}`), { recursive: true });
        phases.push({
            name: `break-${name}`,
            status: code === 0 ? "passed" : "failed",
            seconds: (Date.now() - t0) / 1000,
            evidence: caught?.evidence ?? [],
            ...(code === 0 ? {} : { error: caught?.error ?? `exited ${code}; see report-break-${name}.json` }),
        });
    }
    return phases.every((p) => p.status === "passed") && phases.length === Object.keys(breaks).length ? 0 : 1;
}
