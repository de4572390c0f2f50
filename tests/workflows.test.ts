/**
 * The GitHub workflows, read as GitHub reads them: what each job may do with its token, what the
 * end-to-end job prepares on the runner before it creates two kind clusters, and when and on what
 * the real-engine test bed runs.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { scenarios } from "../e2e/scenarios/registry";

interface Step {
    name?: string;
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
}
interface Job {
    permissions?: Record<string, string> | string;
    steps: Step[];
}
interface Workflow {
    on: { pull_request?: { paths?: string[] } };
    permissions?: Record<string, string> | string;
    jobs: Record<string, Job>;
}

const workflow = (name: string): Workflow => parse(readFileSync(join(__dirname, "..", ".github", "workflows", name), "utf8")) as Workflow;
const workflows = { "pr.yml": workflow("pr.yml"), "e2e-kind.yml": workflow("e2e-kind.yml"), "e2e-local.yml": workflow("e2e-local.yml") };

/** A job's token scopes: its own block replaces the workflow's entirely (GitHub does not merge them). */
function scopes(flow: Workflow, job: Job): Record<string, string> {
    const block = job.permissions ?? flow.permissions ?? {};
    if (typeof block === "string") throw new Error(`shorthand permissions ${block}: spell the scopes out`);
    return block;
}

const grants = (granted: string | undefined, needed: "read" | "write") => granted === "write" || (needed === "read" && granted === "read");

describe("workflow token permissions", () => {
    it("every job that has pulumi/actions comment on a PR may write pull-request comments, and still read the repository", () => {
        const commenting = Object.entries(workflows).flatMap(([file, flow]) =>
            Object.entries(flow.jobs)
                .filter(([, job]) => job.steps.some((step) => step.uses?.startsWith("pulumi/actions@") && String(step.with?.["comment-on-pr"]) === "true"))
                .map(([name, job]) => ({ where: `${file} ${name}`, scopes: scopes(flow, job) })),
        );
        expect(commenting.map((job) => job.where)).toEqual(["pr.yml preview"]);
        for (const job of commenting) {
            expect(grants(job.scopes["pull-requests"], "write"), `${job.where}: pull-requests`).toBe(true);
            expect(grants(job.scopes.contents, "read"), `${job.where}: contents`).toBe(true);
        }
    });

    it("no job writes anything else: the workflow default stays read-only", () => {
        for (const [file, flow] of Object.entries(workflows)) {
            expect(flow.permissions, file).toEqual({ contents: "read" });
            for (const [name, job] of Object.entries(flow.jobs)) {
                const written = Object.entries(scopes(flow, job)).filter(([, level]) => level === "write").map(([scope]) => scope);
                expect(written, `${file} ${name}`).toEqual(name === "preview" ? ["pull-requests"] : []);
            }
        }
    });

    it("the preview creates its stack when missing and runs the policy pack", () => {
        const step = workflows["pr.yml"].jobs.preview.steps.find((candidate) => candidate.uses?.startsWith("pulumi/actions@"));
        expect(step?.with).toMatchObject({ command: "preview", upsert: true, policyPacks: "policy-pack" });
    });
});

describe("e2e-kind runner preparation", () => {
    it("raises the inotify limits to kind's documented values before pulumi up creates the clusters", () => {
        const steps = workflows["e2e-kind.yml"].jobs.e2e.steps;
        const raise = steps.findIndex((step) => /sysctl -w/.test(step.run ?? ""));
        const up = steps.findIndex((step) => /pulumi up/.test(step.run ?? ""));
        expect(raise).toBeGreaterThanOrEqual(0);
        expect(raise).toBeLessThan(up);
        const script = steps[raise].run!;
        const value = (key: string) => Number(new RegExp(`${key.replace(/\./g, "\\.")}=(\\d+)`).exec(script)?.[1]);
        // kind's known-issues page, "Pod errors due to too many open files".
        expect(value("fs.inotify.max_user_watches")).toBeGreaterThanOrEqual(524288);
        expect(value("fs.inotify.max_user_instances")).toBeGreaterThanOrEqual(512);
        expect(script).toMatch(/set -e/);
    });
});

describe("e2e-local: the real-engine test bed", () => {
    const flow = workflows["e2e-local.yml"];
    const steps = flow.jobs["e2e-local"].steps;
    const at = (match: (step: Step) => boolean) => steps.findIndex(match);

    it("runs every scenario the test bed's --scenario takes, each against the pulled charts", () => {
        for (const name of Object.keys(scenarios)) {
            const command = name === "single-stack" ? "npm run e2e:local" : `npm run e2e:local -- --scenario ${name}`;
            const step = steps.find((candidate) => candidate.run === command) as (Step & { env?: Record<string, string> }) | undefined;
            expect(step, name).toBeDefined();
            expect(step?.env?.E2E_CHART_MIRROR, name).toMatch(/^\$\{\{ runner\.temp \}\}\//);
        }
    });

    it("runs on every pull request that changes what gets deployed or the test bed itself", () => {
        const paths = flow.on.pull_request?.paths ?? [];
        // The program's files and folders (what e2e/breaks/program.ts copies for a --break run), its Helm post-renderer, its dependencies.
        for (const entry of ["index.ts", "mesh.ts", "versions.ts", "Pulumi.yaml", "components/**", "config/**", "lib/**", "scripts/**", "e2e/**", "package.json", "package-lock.json"]) {
            expect(paths, entry).toContain(entry);
        }
    });

    it("builds the toolchain with Go, caches the binaries by build modules and pins, and serves the pulled charts to both runs", () => {
        const go = at((step) => step.uses?.startsWith("actions/setup-go@") === true);
        const local = at((step) => step.run === "npm run e2e:local");
        const breaks = at((step) => step.run === "npm run e2e:break");
        expect(go).toBeGreaterThanOrEqual(0);
        expect(local).toBeGreaterThan(go);
        expect(breaks).toBeGreaterThan(local);
        const cache = steps.find((step) => step.uses?.startsWith("actions/cache@"));
        expect(cache?.with?.path).toBe(".e2e-cache/bin");
        for (const input of ["e2e/toolchain/**", "e2e/build-toolchain.sh", "package.json", "versions.ts"]) expect(String(cache?.with?.key), input).toContain(`'${input}'`);
        const pull = at((step) => /e2e\/charts\/pull\.ts/.test(step.run ?? ""));
        expect(pull).toBeGreaterThanOrEqual(0);
        expect(pull).toBeLessThan(local);
        const destination = /pull\.ts "\$RUNNER_TEMP\/(\S+)"/.exec(steps[pull].run!)?.[1];
        for (const run of [local, breaks]) {
            const env = (steps[run] as Step & { env?: Record<string, string> }).env;
            expect(env?.E2E_CHART_MIRROR).toBe(`\${{ runner.temp }}/${destination}`);
        }
    });
});
