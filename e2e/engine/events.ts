/**
 * An engine operation's output and events: the CLI's output to a log per operation, the events
 * kept when a check reads them, and what the checks make of them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { EngineEvent, OpMap } from "@pulumi/pulumi/automation";
import { logs } from "../runner/paths";
import { abort } from "../runner/phases";

/**
 * Options of one engine operation: its CLI output to `logs/pulumi-<name>.log`, cancelled by the first Ctrl-C.
 * @param name the log's name, usually the phase's
 * @param events when given, receives every engine event of the operation
 */
export function engineLog(name: string, events?: EngineEvent[]) {
    const file = path.join(logs, `pulumi-${name}.log`);
    return {
        onOutput: (out: string) => fs.appendFileSync(file, out),
        ...(events ? { onEvent: (event: EngineEvent) => events.push(event) } : {}),
        signal: abort.signal,
        color: "never" as const,
    };
}

/**
 * `op=count` pairs of an operation's summary, for the evidence.
 * @param changes `summary.resourceChanges` of an up or destroy, or a preview's `changeSummary`
 */
export function countOps(changes: OpMap | undefined): string {
    return Object.entries(changes ?? {})
        .map(([op, count]) => `${op}=${count}`)
        .join(" ");
}

/**
 * The program's own peer-stack warnings of one engine operation, exactly as the engine passed them on.
 * @param events the operation's engine events
 */
export function peerWarnings(events: EngineEvent[]): string[] {
    return events
        .map((event) => event.diagnosticEvent)
        .filter((diagnostic) => diagnostic?.severity === "warning" && diagnostic.message.includes("peer stack"))
        .map((diagnostic) => diagnostic!.message.trim());
}
