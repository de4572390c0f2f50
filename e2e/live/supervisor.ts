/**
 * Host processes of the live control plane: started with their output in a log file of their own,
 * waited for until ready (or until they exit, or a deadline passes, whichever is first), stopped
 * with their whole process group. Every process started here is recorded, so that a driver can
 * stop all of them on failure or Ctrl-C without naming them.
 */
import { ChildProcess, execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** A process started by `startProcess`. */
export interface LiveProcess {
    /** What the process is, for messages and the log file's name (e.g. `cluster-1/spire-server`). */
    name: string;
    child: ChildProcess;
    /** Its stdout and stderr. */
    logFile: string;
    /** Exit code or signal once it has exited; undefined while it runs. */
    exited?: string;
}

const started: LiveProcess[] = [];

/** The last `lines` lines of a log file (empty when there is none): what a failure message quotes. */
export function tailOf(file: string, lines = 15): string {
    if (!fs.existsSync(file)) return "";
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

/**
 * Starts `command` in a process group of its own (so that `stopProcess` also stops whatever it
 * forks), its output appended to `<logDir>/<name>.log` (slashes in `name` become dashes).
 *
 * @param name What the process is; names its log file and every message about it.
 * @param command The binary; an absolute path, so that PATH never picks another build.
 * @param args Its arguments.
 * @param options `logDir`: where the log goes (created); `cwd`: its working directory (some
 *   binaries resolve default paths against it); `env`: added to this process's environment.
 */
export function startProcess(
    name: string,
    command: string,
    args: string[],
    options: { logDir: string; cwd?: string; env?: NodeJS.ProcessEnv },
): LiveProcess {
    fs.mkdirSync(options.logDir, { recursive: true });
    const logFile = path.join(options.logDir, `${name.replace(/\//g, "-")}.log`);
    const out = fs.openSync(logFile, "a");
    fs.writeSync(out, `# ${new Date().toISOString()} ${command} ${args.join(" ")}\n`);
    const child = spawn(command, args, {
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        stdio: ["ignore", out, out],
        detached: true,
    });
    fs.closeSync(out);
    const live: LiveProcess = { name, child, logFile };
    child.on("exit", (code, signal) => (live.exited = signal ?? `code ${code}`));
    child.on("error", (error) => (live.exited = `spawn error: ${error.message}`));
    started.push(live);
    return live;
}

/**
 * Polls `ready` every `intervalMs` until it resolves true. Fails when the process exits first
 * (quoting its log's tail) or when `timeoutMs` passes (quoting the last error `ready` threw).
 *
 * @param live The process whose readiness this is.
 * @param what What is awaited, for the message (e.g. "healthcheck").
 * @param ready Resolves true when ready; a rejection counts as not ready yet.
 * @param timeoutMs Generous on purpose: the machine is shared, and a slow start is not a failure.
 * @returns The seconds it took.
 */
export async function waitReady(live: LiveProcess, what: string, ready: () => Promise<boolean>, timeoutMs: number, intervalMs = 500): Promise<number> {
    const t0 = Date.now();
    let last = "";
    for (;;) {
        if (live.exited !== undefined) {
            throw new Error(`${live.name} exited (${live.exited}) before ${what}; tail of ${live.logFile}:\n${tailOf(live.logFile)}`);
        }
        try {
            if (await ready()) return (Date.now() - t0) / 1000;
        } catch (error) {
            last = error instanceof Error ? error.message.split("\n")[0] : String(error);
        }
        if (Date.now() - t0 > timeoutMs) {
            throw new Error(`${live.name}: no ${what} within ${timeoutMs / 1000}s${last ? ` (last: ${last})` : ""}; tail of ${live.logFile}:\n${tailOf(live.logFile)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
}

/**
 * Polls `probe` until it returns a value (not undefined), or fails after `timeoutMs` with the
 * message `describe` gives for the last state seen. For conditions that are not one process's.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, describe: () => string = () => "", intervalMs = 1000): Promise<{ value: T; seconds: number }> {
    const t0 = Date.now();
    let last = "";
    for (;;) {
        try {
            const value = await probe();
            if (value !== undefined) return { value, seconds: (Date.now() - t0) / 1000 };
        } catch (error) {
            last = error instanceof Error ? error.message.split("\n")[0] : String(error);
        }
        if (Date.now() - t0 > timeoutMs) {
            const state = describe();
            throw new Error(`${what}: not within ${timeoutMs / 1000}s${last ? ` (last error: ${last})` : ""}${state ? `\n${state}` : ""}`);
        }
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
}

/** SIGTERM to the process group, SIGKILL after `graceMs`; resolves with how it ended. */
export async function stopProcess(live: LiveProcess, graceMs = 10_000): Promise<string> {
    const pid = live.child.pid;
    if (pid === undefined || live.exited !== undefined) return `${live.name}: already exited (${live.exited ?? "never started"})`;
    const exited = new Promise<void>((resolve) => live.child.once("exit", () => resolve()));
    try {
        process.kill(-pid, "SIGTERM");
    } catch {
        return `${live.name}: gone`;
    }
    const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs))]);
    if (!stopped) {
        try {
            process.kill(-pid, "SIGKILL");
        } catch {
            // Gone between the two signals.
        }
        await exited;
    }
    return `${live.name}: stopped (pid ${pid})${stopped ? "" : " with SIGKILL"}`;
}

/** Stops every process `startProcess` started, the latest first (agents before their server). */
export async function stopAll(): Promise<string[]> {
    const done: string[] = [];
    for (const live of [...started].reverse()) {
        if (live.exited === undefined) done.push(await stopProcess(live));
    }
    started.length = 0;
    return done;
}

/** Runs a command to completion; rejects with its stderr (and stdout) on a non-zero exit. */
export async function runTool(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
    try {
        const { stdout } = await execFileAsync(command, args, {
            env: { ...process.env, ...options.env },
            maxBuffer: 64 << 20,
            timeout: options.timeoutMs ?? 60_000,
        });
        return stdout;
    } catch (error) {
        const e = error as { stderr?: string; stdout?: string; message: string };
        throw new Error(`${path.basename(command)} ${args.join(" ")}: ${(e.stderr || e.stdout || e.message).trim()}`);
    }
}
