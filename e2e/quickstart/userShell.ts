/**
 * A user's shell on this machine, for the kind scenario: a fresh clone of the repository, PATH
 * holding the Pulumi CLI (with its Node.js language host beside it, as a release installs them)
 * and the test bed's stand-ins for `kind` and `docker` (e2e/standins/), and the commands the
 * README tells a user to type, run in the clone exactly as typed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Domain } from "../clusters/domains";
import { pulumiEnv } from "../engine/workspace";
import { cache, logs, root, work } from "../runner/paths";
import { logged, run } from "../runner/processes";
import { defaultVersions } from "../../versions";

/** The stand-ins' folder on PATH. */
export const standinPath = path.join(root, "e2e", "standins", "on-path");

/** Where the kind scenario keeps the clone and what the stand-ins record. */
export const kindWork = path.join(work, "kind");

/** The user's clone: where every command of the scenario runs. */
export const clone = path.join(kindWork, "spire-istio-mesh");

/** The stand-ins' call log (e2e/standins/calls.ts reads it). */
export const standinCalls = path.join(kindWork, "standin-calls.tsv");

/** The stand-ins' record of the clusters created and not deleted, and their logs. */
export const standinState = path.join(kindWork, "standin-state");

/** The backend kind-up.sh picks when none is set (scripts/local-backend.sh): a folder of the clone. */
export const cloneBackend = `file://${path.join(clone, ".pulumi-local")}`;

/**
 * Clones the checkout's HEAD: the committed files only, as a user's `git clone` has them.
 * @param evidence the phase's: the commit, and what of the checkout the clone does not have
 */
export async function freshClone(evidence: string[]): Promise<void> {
    fs.rmSync(kindWork, { recursive: true, force: true });
    fs.mkdirSync(kindWork, { recursive: true });
    const head = (await run("git", ["-C", root, "rev-parse", "HEAD"])).stdout.trim();
    await logged("kind-clone", "git", ["clone", "--quiet", "--no-checkout", root, clone]);
    await logged("kind-clone", "git", ["-C", clone, "checkout", "--quiet", "--detach", head]);
    const uncommitted = (await run("git", ["-C", root, "status", "--porcelain"])).stdout.trim();
    evidence.push(`git clone of ${head.slice(0, 12)} into ${clone}${uncommitted === "" ? "" : `; the checkout's uncommitted changes are not in it (${uncommitted.split("\n").length} paths)`}`);
}

/**
 * The environment of the user's shell: the driver's own without npm's run-script variables and
 * without a backend (kind-up.sh picks the clone's own), PATH with the stand-ins and the CLI
 * first, the run's `PULUMI_HOME` and passphrase, and what the stand-ins need.
 * @param cli the folder holding `pulumi` and `pulumi-language-nodejs` (workspace.ts `installCli`)
 * @param mesh the domains whose clusters a `kind create cluster` may bring up
 */
export function userEnv(cli: string, mesh: Domain[]): NodeJS.ProcessEnv {
    const inherited = Object.fromEntries(
        Object.entries(process.env).filter(([name]) => !name.startsWith("npm_") && name !== "INIT_CWD" && !name.startsWith("PULUMI_") && !name.startsWith("E2E_KIND_")),
    );
    const pulumi = Object.fromEntries(Object.entries(pulumiEnv).filter(([name]) => name !== "PULUMI_BACKEND_URL"));
    return {
        ...inherited,
        ...pulumi,
        PATH: [standinPath, cli, process.env.PATH ?? "/usr/bin:/bin"].join(":"),
        // The stand-ins bring up the test bed's clusters in its cache, wherever E2E_CACHE puts it.
        E2E_CACHE: cache,
        E2E_KIND_CALLS: standinCalls,
        E2E_KIND_STATE: standinState,
        E2E_KIND_CLUSTERS: mesh.map((domain) => `${domain.name}=${domain.address}`).join(","),
        E2E_KIND_IMAGE: defaultVersions.kindNodeImage,
    };
}

/**
 * Runs one line in the user's shell (bash), in the clone; its output in `logs/<log>.log`.
 * @param log the log's name
 * @param line what the user types, e.g. `bash scripts/kind-up.sh`
 * @param env from `userEnv`
 * @returns the log's text, for the evidence
 */
export async function typed(log: string, line: string, env: NodeJS.ProcessEnv): Promise<string> {
    const file = path.join(logs, `${log}.log`);
    fs.appendFileSync(file, `$ ${line}\n`);
    await logged(log, "bash", ["-c", line], env, clone);
    return fs.readFileSync(file, "utf8");
}

/**
 * The summary lines of a CLI operation's output (`Resources:` and what follows, `Duration:`), for the evidence.
 * @param output the log of the operation
 */
export function resourceSummary(output: string): string {
    const lines = output.split("\n");
    const at = lines.map((line) => line.trim()).lastIndexOf("Resources:");
    if (at < 0) return "no Resources: summary in the output";
    const summary: string[] = [];
    for (const line of lines.slice(at + 1)) {
        if (line.trim() === "") break;
        summary.push(line.trim());
    }
    const duration = lines.find((line) => line.trim().startsWith("Duration:"))?.trim();
    return [...summary, ...(duration ? [duration] : [])].join(", ");
}
