/**
 * The kind quickstart scripts, run by bash in a throwaway copy of the project with every tool they
 * call (node, kind, docker, sysctl, npm, pulumi) replaced by a stub on PATH: what they export,
 * what they refuse, and whether the command they print works in a fresh shell.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repoScripts = join(__dirname, "..", "scripts");
let base: string;
let project: string;
let stubs: string;
let log: string;

/** Stubs answer from environment variables, so each test sets the world it needs. */
const stubScripts: Record<string, string> = {
    node: 'echo "${FAKE_NODE_VERSION:-v22.12.0}"',
    kind: 'echo "kind ${FAKE_KIND_VERSION:-v0.31.0} go1.25.5 linux/amd64"',
    docker: "exit 0",
    uname: "echo Linux",
    sysctl: [
        'case "$2" in',
        'fs.inotify.max_user_watches) echo "${FAKE_WATCHES:-524288}" ;;',
        'fs.inotify.max_user_instances) echo "${FAKE_INSTANCES:-512}" ;;',
        "*) exit 1 ;;",
        "esac",
    ].join("\n"),
    // Each call is one line: the tool, the working directory, the passphrase variables it saw, its arguments.
    npm: 'echo "npm|$PWD|${PULUMI_BACKEND_URL-<unset>}|${PULUMI_CONFIG_PASSPHRASE-<unset>}|${PULUMI_CONFIG_PASSPHRASE_FILE-<unset>}|$*" >> "$FAKE_LOG"',
    pulumi: 'echo "pulumi|$PWD|${PULUMI_BACKEND_URL-<unset>}|${PULUMI_CONFIG_PASSPHRASE-<unset>}|${PULUMI_CONFIG_PASSPHRASE_FILE-<unset>}|$*" >> "$FAKE_LOG"',
};

beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), "kind-scripts-"));
    project = join(base, "project");
    stubs = join(base, "stubs");
    log = join(base, "calls.log");
    mkdirSync(join(project, "scripts"), { recursive: true });
    mkdirSync(stubs);
    for (const file of ["local-backend.sh", "kind-up.sh", "kind-down.sh"]) copyFileSync(join(repoScripts, file), join(project, "scripts", file));
    writeFileSync(join(project, "Pulumi.yaml"), "name: spire-istio-mesh\nruntime: nodejs\n");
    for (const [name, body] of Object.entries(stubScripts)) {
        writeFileSync(join(stubs, name), `#!/bin/sh\n${body}\n`);
        chmodSync(join(stubs, name), 0o755);
    }
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

interface Run {
    status: number | null;
    stdout: string;
    stderr: string;
}

/** Runs `command` in a shell whose environment holds only PATH, HOME, the stubs' log and `env`. */
function run(shell: string, command: string, env: Record<string, string> = {}, cwd = base): Run {
    rmSync(log, { force: true });
    const result = spawnSync(shell, ["-c", command], {
        cwd,
        encoding: "utf8",
        env: { PATH: `${stubs}:/usr/bin:/bin`, HOME: base, FAKE_LOG: log, ...env },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function calls(): string[][] {
    return existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((line) => line.split("|")) : [];
}

/** Sources local-backend.sh from bash and prints what it left exported. */
function sourceBackend(env: Record<string, string>, cwd = base): Run & { exported?: { passphrase: string; file: string; backend: string } } {
    const result = run(
        "bash",
        `source ${JSON.stringify(join(project, "scripts", "local-backend.sh"))} || exit $?\nenv | grep -q '^PULUMI_CONFIG_PASSPHRASE=' && p="$PULUMI_CONFIG_PASSPHRASE" || p="<unset>"\nprintf '%s|%s|%s' "$p" "\${PULUMI_CONFIG_PASSPHRASE_FILE-<unset>}" "$PULUMI_BACKEND_URL"`,
        env,
        cwd,
    );
    if (result.status !== 0) return result;
    const [passphrase, file, backend] = result.stdout.split("|");
    return { ...result, exported: { passphrase, file, backend } };
}

function passphraseFile(name: string, content: string): string {
    const path = join(base, name);
    writeFileSync(path, content);
    return path;
}

describe("local-backend.sh: the passphrase", () => {
    it("leaves PULUMI_CONFIG_PASSPHRASE unset when a passphrase file is given, so the CLI reads the file", () => {
        const file = passphraseFile("passphrase", "correct horse battery staple\n");
        const result = sourceBackend({ PULUMI_CONFIG_PASSPHRASE_FILE: file });
        expect(result.exported).toEqual({ passphrase: "<unset>", file, backend: `file://${project}/.pulumi-local` });
        expect(result.stderr).toBe("");
        expect(existsSync(join(project, ".pulumi-local"))).toBe(true);
    });

    it("unsets an empty PULUMI_CONFIG_PASSPHRASE that would shadow the file, and says so", () => {
        const file = passphraseFile("passphrase", "correct horse battery staple\n");
        const result = sourceBackend({ PULUMI_CONFIG_PASSPHRASE_FILE: file, PULUMI_CONFIG_PASSPHRASE: "" });
        expect(result.exported).toMatchObject({ passphrase: "<unset>", file });
        expect(result.stderr).toMatch(/warning: PULUMI_CONFIG_PASSPHRASE is set but empty.*unsetting it so the file counts/);
    });

    it("keeps a non-empty PULUMI_CONFIG_PASSPHRASE, which the CLI prefers, and warns that the file is ignored", () => {
        const file = passphraseFile("passphrase", "from the file\n");
        const result = sourceBackend({ PULUMI_CONFIG_PASSPHRASE_FILE: file, PULUMI_CONFIG_PASSPHRASE: "from the variable" });
        expect(result.exported).toMatchObject({ passphrase: "from the variable", file });
        expect(result.stderr).toMatch(/both .* are set; the CLI uses PULUMI_CONFIG_PASSPHRASE/);
    });

    it("makes a relative passphrase file absolute, so it survives the scripts' cd", () => {
        passphraseFile("relative-passphrase", "secret\n");
        const result = sourceBackend({ PULUMI_CONFIG_PASSPHRASE_FILE: "relative-passphrase" }, base);
        expect(result.exported?.file).toBe(join(base, "relative-passphrase"));
    });

    it("refuses a passphrase file it cannot read, naming it", () => {
        const result = sourceBackend({ PULUMI_CONFIG_PASSPHRASE_FILE: join(base, "no-such-file") });
        expect(result.status).toBe(1);
        expect(result.stderr).toContain(`PULUMI_CONFIG_PASSPHRASE_FILE=${join(base, "no-such-file")} is not a readable file`);
    });

    it.each([
        ["no passphrase at all", {}],
        ["an empty PULUMI_CONFIG_PASSPHRASE", { PULUMI_CONFIG_PASSPHRASE: "" }],
    ])("warns on stderr about %s, and exports it empty so that pulumi never prompts", (_, env) => {
        const result = sourceBackend(env);
        expect(result.exported).toMatchObject({ passphrase: "", file: "<unset>" });
        expect(result.stdout).not.toContain("warning");
        expect(result.stderr).toMatch(/warning: no passphrase: .*encrypted with an empty passphrase; set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE/);
    });

    it("warns about a blank passphrase file: the CLI trims it to an empty passphrase", () => {
        const file = passphraseFile("blank", "  \n");
        const result = sourceBackend({ PULUMI_CONFIG_PASSPHRASE_FILE: file });
        expect(result.stderr).toContain(`${file} is empty`);
    });

    it("is silent with a passphrase, and leaves Pulumi Cloud's own encryption alone", () => {
        expect(sourceBackend({ PULUMI_CONFIG_PASSPHRASE: "s3cret" })).toMatchObject({ stderr: "", exported: { passphrase: "s3cret" } });
        const cloud = sourceBackend({ PULUMI_BACKEND_URL: "https://api.pulumi.com" });
        expect(cloud).toMatchObject({ stderr: "", exported: { passphrase: "<unset>", file: "<unset>", backend: "https://api.pulumi.com" } });
    });
});

describe("kind-up.sh", () => {
    const kindUp = (env: Record<string, string>) => run("bash", `bash ${JSON.stringify(join(project, "scripts", "kind-up.sh"))}`, { PULUMI_CONFIG_PASSPHRASE: "x", ...env });

    it.each([
        ["Node.js", { FAKE_NODE_VERSION: "v20.18.3" }, "Node.js 20.19.0 or later is required (README prerequisites, package.json engines); found 20.18.3 (v20.18.3)"],
        ["Node.js", { FAKE_NODE_VERSION: "v18.20.4" }, "found 18.20.4"],
        ["kind", { FAKE_KIND_VERSION: "v0.30.0" }, "kind 0.31.0 or later is required (README prerequisites; older kind does not run the pinned node image); found 0.30.0 (kind v0.30.0 go1.25.5 linux/amd64)"],
    ])("stops before anything runs when %s is too old, naming required and found", (_, env, message) => {
        const result = kindUp(env);
        expect(result.status).toBe(1);
        expect(result.stderr).toContain(message);
        expect(calls()).toEqual([]);
    });

    it("accepts newer majors and exactly the minimum", () => {
        expect(kindUp({ FAKE_NODE_VERSION: "v20.19.0", FAKE_KIND_VERSION: "v0.31.0" }).status).toBe(0);
        expect(kindUp({ FAKE_NODE_VERSION: "v24.1.0", FAKE_KIND_VERSION: "v1.0.0-alpha" }).status).toBe(0);
    });

    it("refuses inotify limits below what kind documents for its 'too many open files' issue, with the fix", () => {
        const result = kindUp({ FAKE_WATCHES: "8192", FAKE_INSTANCES: "128" });
        expect(result.status).toBe(1);
        expect(result.stderr).toContain("fs.inotify.max_user_watches is 8192, two kind clusters need at least 524288");
        expect(result.stderr).toContain("fs.inotify.max_user_instances is 128, two kind clusters need at least 512");
        expect(result.stderr).toContain("sudo sysctl -w fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512");
        expect(calls()).toEqual([]);
        expect(kindUp({ FAKE_INSTANCES: "511" }).stderr).not.toContain("max_user_watches is");
    });

    it("prints a verify command that works in a fresh POSIX shell, elsewhere, without the script's variables", () => {
        const file = passphraseFile("kind-passphrase", "correct horse\n");
        const up = kindUp({ PULUMI_CONFIG_PASSPHRASE_FILE: file, PULUMI_CONFIG_PASSPHRASE: "" });
        expect(up.status).toBe(0);
        const backend = `file://${project}/.pulumi-local`;
        // The CLI saw the file, not the empty variable that would have overridden it.
        expect(calls().filter((call) => call[0] === "pulumi")).toEqual([
            ["pulumi", project, backend, "<unset>", file, "stack select --create cluster-kind"],
            ["pulumi", project, backend, "<unset>", file, "up --yes --stack cluster-kind"],
        ]);
        const hint = up.stdout.trim().split("\n").at(-1)!.trim();

        // A different shell (dash), another directory, none of the script's environment.
        const fresh = run("sh", hint, {}, tmpdir());
        expect(fresh.status).toBe(0);
        expect(calls()).toEqual([["npm", project, backend, "<unset>", file, "run verify -- --stack cluster-kind"]]);
        expect(up.stdout).not.toContain("correct horse");
    });

    it("never prints a passphrase given in the environment, and says it must be exported", () => {
        const up = kindUp({ PULUMI_CONFIG_PASSPHRASE: "hunter2-passphrase" });
        expect(up.status).toBe(0);
        expect(up.stdout).not.toContain("hunter2-passphrase");
        expect(up.stdout).toContain("with PULUMI_CONFIG_PASSPHRASE exported as for this run");
    });

    it("hands an empty passphrase on explicitly, so the fresh shell does not prompt", () => {
        const up = kindUp({ PULUMI_CONFIG_PASSPHRASE: "" });
        const hint = up.stdout.trim().split("\n").at(-1)!.trim();
        run("sh", hint, {}, tmpdir());
        expect(calls()).toEqual([["npm", project, `file://${project}/.pulumi-local`, "", "<unset>", "run verify -- --stack cluster-kind"]]);
    });
});
