/**
 * The live SPIRE phases on their own, against clusters a scenario left running with the program
 * deployed (for working on the live layer without a full scenario per attempt):
 *
 *   npx tsx e2e/live/run.ts CONTEXT.json [--keep]
 *
 * CONTEXT.json: `{ "binDir": ".e2e-cache/bin", "upEndedAt": <ms>, "inputs": LiveDomainInput[] }`,
 * as a scenario writes it after `up`. Every process started here is stopped at the end (with
 * `--keep`, only on Ctrl-C). Exit status 1 on the first failed phase.
 */
import * as fs from "node:fs";
import { LiveDomainInput, spireBinariesIn, spireLivePhases, stopLiveSpire } from "./phases";

interface Context {
    binDir: string;
    upEndedAt: number;
    inputs: LiveDomainInput[];
}

async function main(): Promise<number> {
    const file = process.argv[2];
    if (file === undefined) throw new Error("usage: npx tsx e2e/live/run.ts CONTEXT.json [--keep]");
    const context = JSON.parse(fs.readFileSync(file, "utf8")) as Context;
    const timings = {};
    let failed = false;
    for (const phase of spireLivePhases(context.inputs, spireBinariesIn(context.binDir), context.upEndedAt, timings)) {
        const evidence: string[] = [];
        const t0 = Date.now();
        try {
            await phase.run(evidence);
            process.stderr.write(`[live] ${phase.name}: passed in ${((Date.now() - t0) / 1000).toFixed(1)}s\n  ${evidence.join("\n  ")}\n`);
        } catch (error) {
            process.stderr.write(`[live] ${phase.name}: FAILED in ${((Date.now() - t0) / 1000).toFixed(1)}s\n  ${evidence.join("\n  ")}\n${error instanceof Error ? error.message : String(error)}\n`);
            failed = true;
            break;
        }
    }
    process.stderr.write(`[live] timings: ${JSON.stringify(timings)}\n`);
    if (process.argv.includes("--keep")) await new Promise((resolve) => process.once("SIGINT", resolve));
    process.stderr.write(`${(await stopLiveSpire()).join("\n")}\n`);
    return failed ? 1 : 0;
}

main().then(
    (code) => process.exit(code),
    async (error: unknown) => {
        process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
        await stopLiveSpire();
        process.exit(1);
    },
);
