/**
 * The kind scenario's pieces that need no engine: the stand-ins for kind, docker and sysctl
 * (e2e/standins/) run as the program runs them (its own create, update and delete scripts through
 * `sh -c`, its kind config on stdin) with a fake e2e/cluster.sh that records what it is asked;
 * what they refuse; what scripts/kind-up.sh makes of them; the check of the stack file; and the
 * scenario's registration.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { kindClusterConfig, kindCreateScript, kindUpdateScript } from "../components/kindCluster";
import { checkKindCreated } from "../e2e/checks/kindCommands";
import { stackFileProblems } from "../e2e/checks/stackFile";
import { domains } from "../e2e/clusters/domains";
import { kindScenario } from "../e2e/scenarios/kind";
import { scenarios } from "../e2e/scenarios/registry";
import { clustersNamed, parseCalls, readCalls } from "../e2e/standins/calls";

const root = join(__dirname, "..");
const onPath = join(root, "e2e", "standins", "on-path");
const base = mkdtempSync(join(tmpdir(), "e2e-standins-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const image = "kindest/node:v9.9.9@sha256:0000";
const addressFormat = '{{ (index .NetworkSettings.Networks "kind").IPAddress }}';
let dir: string;
let env: NodeJS.ProcessEnv;

/** A fresh world per test: a cache with one cluster's certificates, a fake cluster.sh recording its calls. */
beforeEach(() => {
    dir = mkdtempSync(join(base, "run-"));
    const pki = join(dir, "cache", "clusters", "cluster-1", "pki");
    mkdirSync(pki, { recursive: true });
    for (const file of ["ca.crt", "admin.crt", "admin.key"]) writeFileSync(join(pki, file), `content of ${file}\n`);
    writeFileSync(join(dir, "cluster.sh"), `#!/bin/sh\necho "$*" >> "${join(dir, "cluster-sh.log")}"\n`);
    chmodSync(join(dir, "cluster.sh"), 0o755);
    env = {
        PATH: `${onPath}:${process.env.PATH}`,
        E2E_CACHE: join(dir, "cache"),
        E2E_KIND_CALLS: join(dir, "calls.tsv"),
        E2E_KIND_STATE: join(dir, "state"),
        E2E_KIND_CLUSTERS: "cluster-1=127.0.0.2,cluster-2=127.0.0.3",
        E2E_KIND_CLUSTER_SH: join(dir, "cluster.sh"),
        E2E_KIND_IMAGE: image,
    };
});

/** Runs a shell line as the command provider does (`/bin/sh -c`), in the test's folder. */
const sh = (line: string, stdin = "") => spawnSync("/bin/sh", ["-c", line], { cwd: dir, env, input: stdin, encoding: "utf8" });
const clusterShCalls = () => (existsSync(join(dir, "cluster-sh.log")) ? readFileSync(join(dir, "cluster-sh.log"), "utf8").trim().split("\n") : []);
const createCluster1 = () => sh(kindCreateScript("cluster-1", image), kindClusterConfig());

describe("e2e/standins: kind and docker as the program's KindCluster runs them", () => {
    it("creates a cluster with the program's create script: cluster.sh up on the cluster's address, kind's kubeconfig written, the cluster listed", () => {
        const created = createCluster1();
        expect(created.status, created.stderr).toBe(0);
        expect(created.stdout).toBe("");
        expect(clusterShCalls()).toEqual(["up cluster-1 127.0.0.2"]);
        expect(sh("kind get clusters").stdout).toBe("cluster-1\n");
        // The program's update script finds it.
        expect(sh(kindUpdateScript("cluster-1")).status).toBe(0);
    });

    it("prints a kubeconfig for context kind-NAME, the server on the cluster's address and the cluster's own certificates inline", () => {
        createCluster1();
        const kubeconfig = sh("kind get kubeconfig --name 'cluster-1'").stdout;
        expect(kubeconfig).toContain("current-context: kind-cluster-1\n");
        expect(kubeconfig).toContain("server: https://127.0.0.2:6443\n");
        expect(kubeconfig).toContain(`client-key-data: ${Buffer.from("content of admin.key\n").toString("base64")}\n`);
        expect(kubeconfig).toContain(`certificate-authority-data: ${Buffer.from("content of ca.crt\n").toString("base64")}\n`);
    });

    it("answers docker inspect's kind-network address with the cluster's loopback address, and only for a created cluster", () => {
        createCluster1();
        expect(sh(`docker inspect --format '${addressFormat}' 'cluster-1-control-plane'`).stdout).toBe("127.0.0.2\n");
        const missing = sh(`docker inspect --format '${addressFormat}' 'cluster-2-control-plane'`);
        expect(missing.status).toBe(1);
        expect(missing.stderr).toContain("No such object: cluster-2-control-plane");
    });

    it("deletes with the program's delete command: cluster.sh down, the cluster no longer listed nor readable", () => {
        createCluster1();
        expect(sh("kind delete cluster --name 'cluster-1' 1>&2").status).toBe(0);
        expect(clusterShCalls()).toEqual(["up cluster-1 127.0.0.2", "down cluster-1"]);
        expect(sh("kind get clusters").stdout).toBe("");
        expect(sh("kind get kubeconfig --name cluster-1").status).toBe(1);
        // kind-down after a cluster vanished: the update script refuses, as the program means it to.
        expect(sh(kindUpdateScript("cluster-1")).status).toBe(1);
    });

    it("records every call, arguments with spaces and quotes intact", () => {
        createCluster1();
        sh(`docker inspect --format '${addressFormat}' cluster-1-control-plane`);
        const calls = readCalls(env.E2E_KIND_CALLS!);
        expect(calls.map((call) => [call.tool, ...call.args.slice(0, 2)].join(" "))).toEqual(["kind get clusters", "kind create cluster", "docker inspect --format"]);
        expect(calls[2].args).toEqual(["inspect", "--format", addressFormat, "cluster-1-control-plane"]);
        expect(clustersNamed(calls, "create cluster")).toEqual(["cluster-1"]);
    });
});

describe("e2e/standins: what they refuse, naming it, so that a program calling them otherwise fails", () => {
    const refused = (line: string, stdin = "") => {
        const result = sh(line, stdin);
        return { status: result.status, stderr: result.stderr };
    };

    it("an unknown kind flag or subcommand", () => {
        expect(refused("kind create cluster --name cluster-1 --retain x")).toEqual({ status: 1, stderr: expect.stringContaining("unknown flag '--retain'") });
        expect(refused("kind load docker-image foo")).toEqual({ status: 1, stderr: expect.stringContaining("unknown command: kind load docker-image foo") });
        expect(clusterShCalls()).toEqual([]);
    });

    it("a kind config other than the program's one control-plane Cluster, or none", () => {
        const withWorker = `${kindClusterConfig()}  - role: worker\n`;
        expect(refused(kindCreateScript("cluster-1", image), withWorker)).toEqual({ status: 1, stderr: expect.stringContaining("'  - role: worker'") });
        expect(refused(kindCreateScript("cluster-1", image))).toEqual({ status: 1, stderr: expect.stringContaining("no kind config on stdin") });
        expect(clusterShCalls()).toEqual([]);
    });

    it("a node image other than the pinned one, and a cluster the test bed has no address for", () => {
        expect(refused(kindCreateScript("cluster-1", "kindest/node:v1.0.0"), kindClusterConfig())).toEqual({ status: 1, stderr: expect.stringContaining("--image 'kindest/node:v1.0.0'") });
        expect(refused(kindCreateScript("cluster-9", image), kindClusterConfig())).toEqual({ status: 1, stderr: expect.stringContaining("no test-bed cluster named 'cluster-9'") });
        expect(clusterShCalls()).toEqual([]);
    });

    it("any other docker command or inspect format, and sysctl keys beyond kind-up.sh's two", () => {
        expect(refused("docker ps")).toEqual({ status: 1, stderr: expect.stringContaining("unknown command: docker ps") });
        expect(refused("docker inspect --format '{{ .Id }}' cluster-1-control-plane")).toEqual({ status: 1, stderr: expect.stringContaining("unknown format '{{ .Id }}'") });
        expect(refused("sysctl -n kernel.pid_max")).toEqual({ status: 1, stderr: expect.stringContaining("unknown key 'kernel.pid_max'") });
    });
});

describe("scripts/kind-up.sh with the stand-ins on PATH", () => {
    it("passes its prerequisites (kind version, inotify limits, docker info) and goes on to npm ci", () => {
        const project = join(dir, "project");
        const stubs = join(dir, "stubs");
        mkdirSync(join(project, "scripts"), { recursive: true });
        mkdirSync(stubs);
        for (const file of ["local-backend.sh", "kind-up.sh"]) copyFileSync(join(root, "scripts", file), join(project, "scripts", file));
        writeFileSync(join(project, "Pulumi.yaml"), "name: spire-istio-mesh\n");
        // npm and pulumi are the real ones in the scenario; here they only record that kind-up.sh got that far.
        for (const tool of ["npm", "pulumi"]) {
            writeFileSync(join(stubs, tool), `#!/bin/sh\necho "${tool} $*" >> "${join(dir, "tools.log")}"\n`);
            chmodSync(join(stubs, tool), 0o755);
        }
        const result = spawnSync("bash", [join(project, "scripts", "kind-up.sh")], {
            cwd: project,
            env: { ...env, PATH: `${onPath}:${stubs}:${process.env.PATH}`, PULUMI_CONFIG_PASSPHRASE: "x" },
            encoding: "utf8",
        });
        expect(result.status, result.stderr).toBe(0);
        expect(readFileSync(join(dir, "tools.log"), "utf8").split("\n")[0]).toBe("npm ci --no-audit --no-fund");
        const asked = parseCalls(readFileSync(env.E2E_KIND_CALLS!, "utf8")).map((call) => [call.tool, ...call.args].join(" "));
        expect(asked).toEqual(["kind version", "sysctl -n fs.inotify.max_user_watches", "sysctl -n fs.inotify.max_user_instances", "docker info"]);
    });
});

describe("e2e/checks/kindCommands.ts", () => {
    it("fails when a domain's cluster was never created, naming what the stand-in got", () => {
        createCluster1();
        expect(() => checkKindCreated(env.E2E_KIND_CALLS!, domains.slice(0, 2), image, [])).toThrow(/want one kind create cluster per domain \(cluster-1, cluster-2\), the stand-in got: cluster-1$/);
    });
});

describe("e2e/checks/stackFile.ts: the committed cluster-kind stack, with only the chart mirror added", () => {
    const committed = readFileSync(join(root, "Pulumi.cluster-kind.yaml"), "utf8");
    const mirror = [
        "  spire-istio-mesh:allowPlaintextChartRepositories: \"true\"",
        "  spire-istio-mesh:chartRepositories:",
        "    istio: http://127.0.0.1:8080/istio",
    ].join("\n");

    it("accepts the mirror's keys and the passphrase's salt", () => {
        expect(stackFileProblems(committed, `encryptionsalt: v1:abc\n${committed.trimEnd()}\n${mirror}\n`)).toEqual([]);
    });

    it("names a committed key changed, and any other key added", () => {
        const changed = committed.replace("spire-istio-mesh:platform: kind", "spire-istio-mesh:platform: existing");
        expect(stackFileProblems(committed, `${changed.trimEnd()}\n  spire-istio-mesh:exposure: LoadBalancer\n`)).toEqual([
            'config spire-istio-mesh:platform is "existing", committed "kind"',
            "config spire-istio-mesh:exposure was added",
        ]);
    });
});

describe("e2e/scenarios/registry.ts", () => {
    it("offers the kind scenario as --scenario kind", () => {
        expect(scenarios.kind).toBe(kindScenario);
    });
});
