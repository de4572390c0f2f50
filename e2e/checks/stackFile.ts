/**
 * check-stack-file: the kind scenario runs the committed `cluster-kind` stack. After its setup
 * and kind-up.sh, the clone's Pulumi.cluster-kind.yaml must hold the committed file's every key
 * unchanged; the only additions allowed are the chart mirror's keys the scenario set (the public
 * chart repositories are unreachable from this machine) and the passphrase's salt the CLI writes
 * when it creates the stack.
 */
import { parse } from "yaml";
import { check } from "../runner/phases";

/** The keys the scenario may add to the committed stack file: the chart mirror's. */
export const mirrorKeys = ["spire-istio-mesh:chartRepositories", "spire-istio-mesh:allowPlaintextChartRepositories"];

/** A stack settings file as parsed. */
interface StackFile {
    config?: Record<string, unknown>;
    [key: string]: unknown;
}

/**
 * What the stack file of a run differs in from the committed one, as problems (none: only allowed additions).
 * @param committed the committed file's text
 * @param used the file's text after the run's setup
 */
export function stackFileProblems(committed: string, used: string): string[] {
    const before = (parse(committed) ?? {}) as StackFile;
    const after = (parse(used) ?? {}) as StackFile;
    const problems: string[] = [];
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    for (const [key, value] of Object.entries(before.config ?? {})) {
        if (!same(after.config?.[key], value)) problems.push(`config ${key} is ${JSON.stringify(after.config?.[key])}, committed ${JSON.stringify(value)}`);
    }
    for (const key of Object.keys(after.config ?? {})) {
        if (!(key in (before.config ?? {})) && !mirrorKeys.includes(key)) problems.push(`config ${key} was added`);
    }
    for (const key of Object.keys(after)) {
        if (key !== "config" && key !== "encryptionsalt" && !same(after[key], before[key])) problems.push(`${key} differs from the committed file`);
    }
    for (const key of Object.keys(before)) {
        if (!(key in after)) problems.push(`${key} was removed`);
    }
    return problems;
}

/**
 * Fails naming every difference beyond the allowed additions.
 * @param committed the committed file's text
 * @param used the file's text after the run's setup
 * @param evidence the phase's
 */
export function checkStackFile(committed: string, used: string, evidence: string[]): void {
    const problems = stackFileProblems(committed, used);
    check(problems.length === 0, `Pulumi.cluster-kind.yaml is not the committed one: ${problems.join("; ")}`);
    const added = Object.keys(((parse(used) ?? {}) as StackFile).config ?? {}).filter((key) => mirrorKeys.includes(key));
    evidence.push(`Pulumi.cluster-kind.yaml: every committed key unchanged; added only ${added.join(", ")} (chart mirror) and the passphrase's encryptionsalt`);
}
