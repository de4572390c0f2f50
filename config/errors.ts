import * as pulumi from "@pulumi/pulumi";
import { projectName } from "./keys";

/** One problem with one config key. */
export interface ConfigProblem {
    /** Path of the key, e.g. `domains[1].trustDomain`. */
    key: string;
    /** The offending value, as the user wrote it. */
    value: unknown;
    /** What the key accepts. */
    allowed: string;
}

export function describeProblem(problem: ConfigProblem): string {
    const shown = problem.value === undefined ? "(not set)" : JSON.stringify(problem.value);
    return `${projectName}:${problem.key} = ${shown}: ${problem.allowed}`;
}

/**
 * Raised before any resource is declared when stack config is invalid. It lists every problem
 * at once, so one `pulumi up` shows all that must change. A RunError prints without a stack trace.
 */
export class ConfigError extends pulumi.RunError {
    readonly problems: ConfigProblem[];

    constructor(problems: ConfigProblem[]) {
        super(
            `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${describeProblem(p)}`).join("\n"),
        );
        this.problems = problems;
        Object.setPrototypeOf(this, ConfigError.prototype);
    }
}
