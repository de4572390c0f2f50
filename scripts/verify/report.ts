/** Verdicts of the checks and how they are shown. */

export const checkIds = ["load-balancing", "failover", "north-south", "identity", "federation", "rotation"] as const;
export type CheckId = (typeof checkIds)[number];

export type Status = "pass" | "fail";

export interface CheckResult {
    id: CheckId;
    title: string;
    status: Status;
    /** One line: what was found. */
    summary: string;
    /** What the verdict rests on: requests, certificates, objects seen. */
    evidence: string[];
    /** Attempts made before the verdict (more than one where the mesh had to converge). */
    attempts: number;
    durationMs: number;
}

export interface Report {
    ok: boolean;
    passed: number;
    failed: number;
    results: CheckResult[];
}

/** A run passes only when it ran something and nothing failed. */
export function aggregate(results: CheckResult[]): Report {
    const failed = results.filter((result) => result.status === "fail").length;
    return { ok: results.length > 0 && failed === 0, passed: results.length - failed, failed, results };
}

export function exitCodeOf(report: Report): number {
    return report.ok ? 0 : 1;
}

export function renderJson(report: Report): string {
    return JSON.stringify(report, null, 2);
}

function pad(text: string, width: number): string {
    return text + " ".repeat(Math.max(0, width - text.length));
}

/** A plain-text table, one row per check, its evidence indented below it. */
export function renderTable(report: Report): string {
    const header = ["CHECK", "RESULT", "TIME", "SUMMARY"];
    const rows = report.results.map((result) => [
        result.id,
        result.status.toUpperCase(),
        `${(result.durationMs / 1000).toFixed(1)}s`,
        result.summary,
    ]);
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
    const line = (cells: string[]): string =>
        cells
            .map((cell, column) => (column === cells.length - 1 ? cell : pad(cell, widths[column])))
            .join("  ")
            .trimEnd();
    const out: string[] = [line(header)];
    for (const [index, result] of report.results.entries()) {
        out.push(line(rows[index]));
        for (const item of result.evidence) out.push(`    - ${item}`);
    }
    out.push("");
    out.push(report.ok ? `All ${report.passed} checks passed.` : `${report.failed} of ${report.results.length} checks failed.`);
    return out.join("\n");
}

/** The progress line printed (to stderr) as each check starts. */
export function progressLine(position: number, total: number, id: CheckId, title: string): string {
    return `[${position}/${total}] ${id}: ${title} ...`;
}

/** The line printed when a check ends. */
export function doneLine(result: CheckResult): string {
    const attempts = result.attempts > 1 ? `, ${result.attempts} attempts` : "";
    return `      ${result.status.toUpperCase()} in ${(result.durationMs / 1000).toFixed(1)}s${attempts}: ${result.summary}`;
}
