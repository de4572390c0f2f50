/**
 * The real-engine test bed's command line: the project's own program, deployed through the real
 * Pulumi engine onto local control planes (e2e/cluster.sh) from the chart mirror (e2e/charts),
 * checked by reading the API servers and the engine's state (e2e/README.md).
 *
 *   npm run e2e:local                           # one stack: two domains, then a third (issue 11)
 *   npm run e2e:local -- --scenario cross-stack # one stack per domain, federated through outputs (issue 12)
 *   npm run e2e:local -- --scenario scale       # `up` of three domains from scratch against two (issue 16)
 *   npm run e2e:local -- --scenario upgrade     # a stack of the previous program brought up to date (issue 19)
 *   npm run e2e:local -- --scenario kind        # the committed cluster-kind stack through kind-up.sh, in a fresh clone (issue 19)
 *   npm run e2e:local -- --break crd-order      # a deliberate bug: passes only if the right phase catches it
 *   npm run e2e:break                           # every deliberate bug, one run each
 *
 * The layers, bottom up: runner/ (phases, processes, kubectl, report), clusters/, charts/,
 * engine/ (workspace, config, operations, state), breaks/, checks/ and changes/ (one phase's work
 * each), scenarios/ (lists of phases). Progress on stderr, a summary table,
 * `.e2e-cache/report.json`; logs kept on failure; exit 1 on any failure. Every process started here
 * is stopped, also on failure or Ctrl-C.
 */
import { report } from "./runner/report";
import { cancelOnSignals, progress } from "./runner/phases";
import { breakEach } from "./scenarios/breakEach";
import { scenarios } from "./scenarios/registry";
import { singleStack } from "./scenarios/singleStack";

/** The value after `flag` on the command line. */
function option(flag: string): string | undefined {
    const at = process.argv.indexOf(flag);
    return at >= 0 ? process.argv[at + 1] : undefined;
}

/** `--scenario NAME` picks the scenario (without it, the single-stack one); `--break NAME` breaks the single-stack one's program on purpose. */
async function main(): Promise<number> {
    const breakName = option("--break");
    if (breakName === "all") return breakEach(__filename);
    if (breakName !== undefined) {
        if (option("--scenario") !== undefined) throw new Error("--break runs the single-stack scenario; leave out --scenario");
        progress("scenario", `single-stack, program broken on purpose: ${breakName}`);
        return singleStack(breakName);
    }
    const name = option("--scenario") ?? "single-stack";
    const scenario = scenarios[name];
    if (scenario === undefined) throw new Error(`--scenario ${String(name)}: unknown; one of ${Object.keys(scenarios).join(", ")}`);
    progress("scenario", name);
    return scenario();
}

/** `report.json`, or `report-break-NAME.json` for a `--break` run, so that one run of each can be kept side by side. */
const reportName = process.argv.includes("--break") ? `report-break-${option("--break")}.json` : "report.json";

cancelOnSignals();
main().then(
    (code) => {
        report(code, reportName);
        process.exit(code);
    },
    (error: unknown) => {
        process.stderr.write(`e2e:local: ${error instanceof Error ? error.stack : String(error)}\n`);
        report(1, reportName);
        process.exit(1);
    },
);
