/**
 * What a run leaves behind: the report (`report.json`, or `report-break-NAME.json` for a `--break`
 * run, so that one run of each can be kept side by side), the summary table on stderr, and the
 * run's logs when it failed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { cache, logs } from "./paths";
import { phases } from "./phases";

/**
 * Writes the report and the summary table; removes the logs of a passed run.
 * @param code the run's exit status: 0 passed
 * @param reportName the report's file name in the cache
 */
export function report(code: number, reportName: string): void {
    const file = path.join(cache, reportName);
    fs.writeFileSync(file, `${JSON.stringify({ passed: code === 0, finished: new Date().toISOString(), logs: code === 0 ? undefined : logs, phases }, null, 2)}\n`);
    const width = Math.max(...phases.map((p) => p.name.length));
    const rows = phases.map((p) => `${p.name.padEnd(width)}  ${p.status.padEnd(7)}  ${p.seconds.toFixed(1).padStart(7)}s  ${(p.error ?? p.evidence[0] ?? "").split("\n")[0].slice(0, 110)}`);
    process.stderr.write(`\n${"phase".padEnd(width)}  status   seconds   evidence / error\n${rows.join("\n")}\n\nreport: ${file}\n`);
    if (code === 0) fs.rmSync(logs, { recursive: true, force: true });
    else process.stderr.write(`logs kept: ${logs}\n`);
}
