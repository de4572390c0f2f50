/**
 * Processes the test bed starts. Every child is registered, so that teardown stops each one still
 * running, also after a failure or Ctrl-C; a long-running process (the chart mirror, and host
 * processes of later layers) registers itself with `track`.
 */
import { ChildProcess, execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { logs, root } from "./paths";

/** A command to completion, its output returned (`execFile`, promised): for short tools such as openssl. */
export const run = promisify(execFile);

/** Every child process this run started, in order. */
const children: ChildProcess[] = [];

/**
 * Registers a child for `stopChildren`.
 * @param child a process started by the caller that must not outlive the run
 */
export function track<T extends ChildProcess>(child: T): T {
    children.push(child);
    return child;
}

/**
 * Runs a command with its output appended to `logs/<log>.log`.
 * @param log the log's name: one per concern (a cluster, the toolchain build), so a failure points at one file
 * @param command the executable
 * @param args its arguments
 * @param env its environment; the driver's own by default
 * @param cwd where it runs: the repository unless a scenario runs a user's command in its own clone
 * @throws when it exits non-zero, naming the log and quoting its last lines
 */
export async function logged(log: string, command: string, args: string[], env?: NodeJS.ProcessEnv, cwd: string = root): Promise<void> {
    const file = path.join(logs, `${log}.log`);
    const out = fs.openSync(file, "a");
    try {
        const child = track(spawn(command, args, { cwd, env: env ?? process.env, stdio: ["ignore", out, out] }));
        const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
        if (code !== 0) {
            const tail = fs.readFileSync(file, "utf8").trim().split("\n").slice(-15).join("\n");
            throw new Error(`${path.basename(command)} ${args.join(" ")} exited ${code} (log: ${file}):\n${tail}`);
        }
    } finally {
        fs.closeSync(out);
    }
}

/**
 * Stops every registered child still running: SIGTERM, SIGKILL after 10 s.
 * @param evidence the teardown phase's: one line per process stopped
 */
export async function stopChildren(evidence: string[]): Promise<void> {
    for (const child of children) {
        if (child.exitCode !== null || child.signalCode !== null) continue;
        child.kill("SIGTERM");
        const stopped = await Promise.race([
            new Promise<boolean>((resolve) => child.on("exit", () => resolve(true))),
            new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000)),
        ]);
        if (!stopped) child.kill("SIGKILL");
        evidence.push(`stopped pid ${child.pid} (${child.spawnargs.map((arg) => path.basename(arg)).join(" ").slice(0, 60)})${stopped ? "" : " with SIGKILL"}`);
    }
}
