/**
 * The verdict of a `--break` run, recorded as its `break-caught` phase: the first failed phase is
 * the one the break names, failed for the reason it names. Anything else, including every phase
 * passing, means the test bed missed the bug.
 */
import { phases } from "../runner/phases";
import { Break } from "./catalogue";

/**
 * Appends `break-caught` to this run's phases.
 * @param name the break's name
 * @param broken the break: the phase and the error that must catch it
 * @returns whether the break was caught where it should be
 */
export function breakVerdict(name: string, broken: Break): boolean {
    const firstFailed = phases.find((p) => p.status === "failed");
    const caught = firstFailed?.name === broken.phase && broken.error.test(firstFailed.error ?? "");
    const afterwards = phases.filter((p) => p !== firstFailed && p.status === "failed").map((p) => p.name);
    phases.push({
        name: "break-caught",
        status: caught ? "passed" : "failed",
        seconds: 0,
        evidence: [
            `--break ${name}: ${broken.what}`,
            `first failed phase: ${firstFailed ? `${firstFailed.name}: ${(firstFailed.error ?? "").split("\n").slice(0, 3).join(" | ")}` : "none"}`,
            `wanted: ${broken.phase}, error matching ${String(broken.error)}`,
            `other failed phases: ${afterwards.join(", ") || "none"}`,
        ],
        ...(caught ? {} : { error: `--break ${name} was not caught at ${broken.phase}: ${firstFailed ? `${firstFailed.name} failed first` : "every phase passed"}` }),
    });
    return caught;
}
