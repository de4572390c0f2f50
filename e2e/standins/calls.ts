/**
 * The call log of the kind and docker stand-ins (on-path/, standin.sh): what the program and
 * scripts/kind-up.sh asked of them, read back so that a scenario can tell that `pulumi up` created
 * each kind cluster and `pulumi destroy` deleted it.
 */
import * as fs from "node:fs";

/** One call of a stand-in: the tool (`kind` or `docker`) and its arguments. */
export interface StandinCall {
    tool: string;
    args: string[];
}

/**
 * The calls of a log's text, in order.
 * @param text the log: a line per call, the tool then each argument, tab-separated
 */
export function parseCalls(text: string): StandinCall[] {
    return text
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => {
            const [tool, ...args] = line.split("\t");
            return { tool, args };
        });
}

/**
 * The calls logged so far; none when nothing called a stand-in yet.
 * @param file the log (E2E_KIND_CALLS)
 */
export const readCalls = (file: string): StandinCall[] => (fs.existsSync(file) ? parseCalls(fs.readFileSync(file, "utf8")) : []);

/**
 * The value after `flag` in a call's arguments.
 * @param call the call
 * @param flag e.g. `--name`
 */
export function flagOf(call: StandinCall, flag: string): string | undefined {
    const at = call.args.indexOf(flag);
    return at >= 0 ? call.args[at + 1] : undefined;
}

/**
 * The calls of one subcommand, e.g. `kind create cluster`.
 * @param calls the log's
 * @param command the tool and its subcommand words, as typed
 */
export const callsOf = (calls: StandinCall[], command: string): StandinCall[] => {
    const [tool, ...words] = command.split(" ");
    return calls.filter((call) => call.tool === tool && words.every((word, i) => call.args[i] === word));
};

/**
 * The clusters named by the `--name` of each call of a kind subcommand, in call order.
 * @param calls the log's
 * @param subcommand `create cluster` or `delete cluster`
 */
export const clustersNamed = (calls: StandinCall[], subcommand: "create cluster" | "delete cluster"): string[] =>
    callsOf(calls, `kind ${subcommand}`).map((call) => flagOf(call, "--name") ?? "");
