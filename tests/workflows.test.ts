/**
 * The GitHub workflows, read as GitHub reads them: what each job may do with its token, and what
 * the end-to-end job prepares on the runner before it creates two kind clusters.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

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
    permissions?: Record<string, string> | string;
    jobs: Record<string, Job>;
}

const workflow = (name: string): Workflow => parse(readFileSync(join(__dirname, "..", ".github", "workflows", name), "utf8")) as Workflow;
const workflows = { "pr.yml": workflow("pr.yml"), "e2e-kind.yml": workflow("e2e-kind.yml") };

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
