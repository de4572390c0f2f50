/**
 * The phase runner: a run is a list of named phases, each timed and recorded with its evidence,
 * with a progress line on stderr. A phase whose prerequisite failed, or that comes after an
 * interrupt, is recorded as skipped, so the report always names every phase of the scenario.
 */
import { engineMessage } from "./engineMessage";

export type Status = "passed" | "failed" | "skipped";

/** One phase as the report holds it (`report.json`'s `phases`). */
export interface Phase {
    name: string;
    status: Status;
    seconds: number;
    /** What the phase saw, one line each: the first one is the summary table's. */
    evidence: string[];
    error?: string;
}

/** Every phase of this run, in the order they ran. */
export const phases: Phase[] = [];

/** Aborted by the first Ctrl-C (or SIGTERM): cancels the running engine operation; every later phase but teardown is skipped. */
export const abort = new AbortController();

/**
 * A progress line on stderr.
 * @param name the phase (or `scenario`, `break`, `interrupt`) the line is about
 * @param what what happened
 */
export function progress(name: string, what: string): void {
    process.stderr.write(`[e2e:local ${new Date().toISOString().slice(11, 19)}] ${name}: ${what}\n`);
}

/**
 * Runs one phase: timed, recorded, a progress line on stderr.
 * @param name the phase's name in the report: scenarios, breaks (`breaks/catalogue.ts`) and the README refer to it
 * @param needs false when a prerequisite failed: the phase is recorded as skipped and `body` does not run
 * @param body the phase's work; it pushes what it saw to `evidence` and throws to fail
 * @returns whether the phase passed, for the phases that need it
 */
export async function phase(name: string, needs: boolean, body: (evidence: string[]) => Promise<void>): Promise<boolean> {
    const evidence: string[] = [];
    if (!needs || (abort.signal.aborted && name !== "teardown")) {
        phases.push({ name, status: "skipped", seconds: 0, evidence: [abort.signal.aborted ? "interrupted" : "an earlier phase failed"] });
        progress(name, "skipped");
        return false;
    }
    progress(name, "started");
    const t0 = Date.now();
    try {
        await body(evidence);
        const seconds = (Date.now() - t0) / 1000;
        phases.push({ name, status: "passed", seconds, evidence });
        progress(name, `passed in ${seconds.toFixed(1)}s`);
        return true;
    } catch (error) {
        const seconds = (Date.now() - t0) / 1000;
        const message = engineMessage(error);
        phases.push({ name, status: "failed", seconds, evidence, error: message });
        progress(name, `FAILED in ${seconds.toFixed(1)}s: ${message.split("\n")[0]}`);
        return false;
    }
}

/**
 * Fails the running phase with `message` unless `condition` holds.
 * @param message what is wrong, naming the cluster and object: it becomes the phase's error
 */
export function check(condition: boolean, message: string): asserts condition {
    if (!condition) throw new Error(message);
}

/** Whether a phase of that name ran and passed in this run: for a phase that needs an earlier one other than its group's prerequisite. */
export function passed(name: string): boolean {
    return phases.some((p) => p.name === name && p.status === "passed");
}

/** A run's exit status: 1 when a phase failed or the run was interrupted. */
export function exitCode(): number {
    return phases.some((p) => p.status === "failed") || abort.signal.aborted ? 1 : 0;
}

/**
 * The first Ctrl-C (or SIGTERM) cancels the running engine operation and skips to teardown; the
 * clusters' processes live in their own process groups, so teardown still has something to stop
 * cleanly.
 */
export function cancelOnSignals(): void {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
        process.on(signal, () => {
            if (abort.signal.aborted) return;
            progress("interrupt", `${signal}: cancelling, then tearing down`);
            abort.abort();
        });
    }
}
