import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { evaluatePolicies, fromDeclared } from "../policy-pack/evaluate";
import { runPlanCommand } from "../scripts/plan/command";
import { longestDependencyChain } from "../scripts/plan/graph";
import { exitCodeOf, Plan, PlanOptions, planStack as planStackFresh, renderPlan, writeManifests } from "../scripts/plan/plan";
import { readStackFile, secretVariableName } from "../scripts/plan/stackFile";
import { createTestRootCa } from "./harness/certificates";
import { projectConfigOf, projectRoot, stackNames, withThirdDomain } from "./harness/stacks";

/**
 * Plans run the whole program in this process, one after another; how long one takes depends on
 * the machine's load, so the tests that wait for one have no time limit (`timeout: 0`), and none
 * spawns the plan in a child process.
 */
const noTimeLimit = { timeout: 0 };

/** Plans are only read here: one per options. */
const plans = new Map<string, Promise<Plan>>();
function planStack(options: PlanOptions): Promise<Plan> {
    const key = JSON.stringify(options);
    if (!plans.has(key)) plans.set(key, planStackFresh(options));
    return plans.get(key)!;
}

/** The plan command in this process, with its output collected and the plans shared. */
async function planCommand(argv: string[], environment: NodeJS.ProcessEnv = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const status = await runPlanCommand(argv, { out: (text) => out.push(text), err: (text) => err.push(text) }, { planStack, environment });
    return { status, stdout: out.join("\n"), stderr: err.join("\n") };
}

describe.each(stackNames)("offline plan of %s", noTimeLimit, (stack) => {
    it("declares resources in every cluster and violates no mandatory policy", async () => {
        const plan = await planStack({ stack });
        expect(Object.keys(plan.perCluster).sort()).toEqual(["cloud", "cluster-1", "cluster-2"]);
        expect(plan.mandatory).toEqual([]);
    });

    it("also passes with three domains and as a preview", async () => {
        const three = await planStack({ stack, projectConfig: withThirdDomain(stack) });
        expect(Object.keys(three.perCluster)).toContain("cluster-3");
        expect(three.mandatory).toEqual([]);
        const preview = await planStack({ stack, preview: true });
        expect(preview.mandatory).toEqual([]);
    });

    it("writes every declared Kubernetes object as YAML per cluster, secrets redacted", async () => {
        const plan = await planStack({ stack });
        const folder = mkdtempSync(join(tmpdir(), "plan-"));
        const files = writeManifests(plan, folder);
        const objects = readFileSync(join(folder, "cluster-2", "objects.yaml"), "utf8");
        const kinds = parseAllDocuments(objects).map((d) => (d.toJSON() as { kind: string }).kind);
        expect(kinds).toContain("ClusterFederatedTrustDomain");
        expect(kinds).toContain("PeerAuthentication");
        expect(files.some((f) => f.endsWith("release-cluster-2-istiod.yaml"))).toBe(true);
        // Root CA keys and reader tokens are secrets in the program: none reaches the files.
        const everything = files.map((f) => readFileSync(f, "utf8")).join("\n");
        expect(everything).not.toMatch(/BEGIN (EC |RSA )?PRIVATE KEY/);
        expect(everything).toContain("[secret]");
    });

    it("reports the longest chain a deploy must walk, from cluster to workloads", async () => {
        const plan = await planStack({ stack });
        const chain = plan.longestChain.map((urn) => urn.split("::").pop());
        expect(chain.length).toBeGreaterThanOrEqual(8);
        // SPIRE (with federation) comes before istiod, istiod before what runs in the mesh.
        const spire = chain.findIndex((n) => n?.endsWith("-spire"));
        const istiod = chain.findIndex((n) => n?.endsWith("-istiod"));
        expect(spire).toBeGreaterThan(0);
        expect(istiod).toBeGreaterThan(spire);
    });
});

describe("configs and changes broken on purpose are caught", noTimeLimit, () => {
    it("duplicate trust domains stop the plan before anything is declared", async () => {
        const config = projectConfigOf("cluster-kind");
        const domains = (config.domains as Record<string, unknown>[]).map((d) => ({ ...d, trustDomain: "foo.com" }));
        await expect(planStack({ stack: "cluster-kind", projectConfig: { ...config, domains } })).rejects.toThrow(
            /domains\[1\]\.trustDomain = "foo\.com": must be unique/,
        );
    });

    it("an unpinned chart version in config stops the plan", async () => {
        const config = { ...projectConfigOf("cluster-gke"), istioVersion: "latest" };
        await expect(planStack({ stack: "cluster-gke", projectConfig: config })).rejects.toThrow(/istioVersion = "latest"/);
    });

    it("a config that parses but breaks a mandatory policy fails the plan", async () => {
        // Accepted by config validation (shorter than the root), refused by the rotation policy.
        const config = { ...projectConfigOf("cluster-kind"), istiodCertDuration: "2400h" };
        const plan = await planStack({ stack: "cluster-kind", projectConfig: config });
        expect(plan.mandatory.map((v) => v.policy)).toEqual(["istiod-cacerts-rotation", "istiod-cacerts-rotation"]);
        expect(exitCodeOf(plan)).toBe(1);
        expect(renderPlan(plan)).toContain("[mandatory] istiod-cacerts-rotation");
        expect(exitCodeOf(await planStack({ stack: "cluster-kind" }))).toBe(0);
    });

    it("the plan command exits 0 on a clean stack and 2 on a bad command line", async () => {
        const out = mkdtempSync(join(tmpdir(), "plan-cli-"));
        const clean = await planCommand(["--stack", "cluster-kind", "--out", out, "--json"]);
        expect(clean.status, clean.stderr).toBe(0);
        const report = JSON.parse(clean.stdout);
        expect(report.stack).toBe("cluster-kind");
        expect(report.violations.filter((v: { enforcementLevel: string }) => v.enforcementLevel === "mandatory")).toEqual([]);
        expect(readdirSync(out).sort()).toEqual(["cluster-1", "cluster-2"]);
        const missing = await planCommand(["--stack", "nope"]);
        expect(missing.status).toBe(2);
        expect(missing.stderr).toContain(`${join(projectRoot, "Pulumi.nope.yaml")} does not exist`);
        expect((await planCommand(["--stack", "cluster-kind", "Pulumi.cluster-gke.yaml"])).status).toBe(2);
        expect((await planCommand(["--frobnicate"])).status).toBe(2);
    });

    it("a release with no exact version, or a cluster without STRICT mTLS, is a mandatory violation", async () => {
        const plan = await planStack({ stack: "cluster-kind" });
        const records = plan.resources.map(fromDeclared);

        const unpinned = records.map((r) =>
            r.type === "kubernetes:helm.sh/v3:Release" && r.name === "cluster-1-istiod" ? { ...r, props: { ...r.props, version: "" } } : r,
        );
        const chartViolations = evaluatePolicies(unpinned).filter((v) => v.enforcementLevel === "mandatory");
        expect(chartViolations.map((v) => v.policy)).toEqual(["helm-charts-pinned"]);
        expect(chartViolations[0].urn).toMatch(/cluster-1-istiod$/);

        const withoutStrict = records.filter((r) => !(r.type.endsWith(":PeerAuthentication") && r.name.startsWith("cluster-2")));
        const mtlsViolations = evaluatePolicies(withoutStrict).filter((v) => v.enforcementLevel === "mandatory");
        expect(mtlsViolations.map((v) => v.policy)).toEqual(["istio-strict-mtls"]);
        expect(mtlsViolations[0].message).toContain("cluster-2");
    });
});

describe("the plan command's --help", noTimeLimit, () => {
    it("answers without loading the Pulumi SDK or the program", () => {
        // A require hook that ends the process as soon as anything loads the Pulumi SDK.
        const folder = mkdtempSync(join(tmpdir(), "plan-help-"));
        const hook = join(folder, "no-pulumi.cjs");
        writeFileSync(
            hook,
            [
                'const Module = require("node:module");',
                "const load = Module._load;",
                "Module._load = function (request, ...rest) {",
                '    if (request === "@pulumi/pulumi" || request.startsWith("@pulumi/pulumi/")) {',
                '        process.stderr.write("loaded " + request + "\\n");',
                "        process.exit(97);",
                "    }",
                "    return load.call(this, request, ...rest);",
                "};",
            ].join("\n"),
        );
        const help = spawnSync(process.execPath, ["--require", hook, "--import", "tsx", "scripts/plan/cli.ts", "--help"], { cwd: projectRoot, encoding: "utf8" });
        expect(help.stderr).toBe("");
        expect(help.status).toBe(0);
        expect(help.stdout).toMatch(/^Usage: npm run plan -- \(--stack <stack> \| <path\/to\/Pulumi\.<stack>\.yaml>\)/);
        expect(help.stdout).toContain("PLAN_SECRET_SPIRE_ISTIO_MESH_CLUSTER1ROOTKEY");
    });
});

describe("a stack file a user wrote", noTimeLimit, () => {
    /** Team A's own stack: platform existing, one domain, a peer stack, and a supplied root whose key is a secure value. */
    async function teamStack() {
        const folder = mkdtempSync(join(tmpdir(), "plan-stack-"));
        const kubeconfig = join(folder, "kubeconfig");
        writeFileSync(
            kubeconfig,
            stringify({
                apiVersion: "v1",
                kind: "Config",
                clusters: [{ name: "east", cluster: { server: "https://10.1.0.1:6443", "certificate-authority-data": "RUFTVA==" } }],
                users: [{ name: "east-admin", user: { token: "east-token" } }],
                contexts: [{ name: "east-ctx", context: { cluster: "east", user: "east-admin" } }],
            }),
        );
        const root = await createTestRootCa("foo.com team root");
        const stackFile = join(folder, "Pulumi.team-a.yaml");
        writeFileSync(
            stackFile,
            stringify({
                config: {
                    "pulumi:disable-default-providers": ["kubernetes"],
                    "spire-istio-mesh:platform": "existing",
                    "spire-istio-mesh:exposure": "NodePort",
                    "spire-istio-mesh:exportAdminKubeconfigs": false,
                    "spire-istio-mesh:domains": [
                        {
                            name: "cluster-1",
                            trustDomain: "foo.com",
                            network: "foo-network",
                            existing: { context: "east-ctx", kubeconfig, nodeAddress: "192.0.2.1" },
                            rootCa: { certificatePem: root.certificatePem, privateKeyConfigKey: "cluster1RootKey" },
                        },
                    ],
                    "spire-istio-mesh:peerStacks": [{ stack: "organization/spire-istio-mesh/team-b", trustDomains: ["bar.com"] }],
                    // What `pulumi config set --secret` writes: ciphertext only the CLI can decrypt.
                    "spire-istio-mesh:cluster1RootKey": { secure: "v1:AAAAAAAAAAAAAAAA:cipher" },
                },
            }),
        );
        return { folder, stackFile, root };
    }

    it("reads each secure value from its environment variable, as a secret, else a placeholder", async () => {
        const { stackFile } = await teamStack();
        const variable = secretVariableName("spire-istio-mesh:cluster1RootKey");
        expect(variable).toBe("PLAN_SECRET_SPIRE_ISTIO_MESH_CLUSTER1ROOTKEY");
        const given = readStackFile(stackFile, { [variable]: "the key" });
        expect(given.stack).toBe("team-a");
        expect(given.config["spire-istio-mesh:cluster1RootKey"]).toBe("the key");
        expect(given.secretKeys).toEqual(["spire-istio-mesh:cluster1RootKey"]);
        expect(given.secrets).toEqual([{ path: "spire-istio-mesh:cluster1RootKey", variable, fromEnvironment: true }]);
        const missing = readStackFile(stackFile, {});
        expect(missing.config["spire-istio-mesh:cluster1RootKey"]).toBe("[plan placeholder for secure value spire-istio-mesh:cluster1RootKey]");
        expect(missing.secrets[0].fromEnvironment).toBe(false);
    });

    it("is planned from its path, its root key from the environment, and no key reaches the output or the files", async () => {
        const { folder, stackFile, root } = await teamStack();
        const out = join(folder, "out");
        const environment = { PLAN_SECRET_SPIRE_ISTIO_MESH_CLUSTER1ROOTKEY: root.privateKeyPem };
        const result = await planCommand([stackFile, "--out", out, "--json"], environment);
        expect(result.status, result.stderr).toBe(0);
        const report = JSON.parse(result.stdout);
        expect(report.stack).toBe("team-a");
        expect(Object.keys(report.perCluster).sort()).toEqual(["cloud", "cluster-1"]);
        expect(report.secureValues).toEqual([
            { path: "spire-istio-mesh:cluster1RootKey", variable: "PLAN_SECRET_SPIRE_ISTIO_MESH_CLUSTER1ROOTKEY", fromEnvironment: true },
        ]);
        // The supplied root is what the plan's Secrets hold (the certificate, not a generated one).
        const objects = readFileSync(join(out, "cluster-1", "objects.yaml"), "utf8");
        expect(objects).toContain("[secret]");
        const written = report.files.map((file: string) => readFileSync(file, "utf8")).join("\n");
        for (const text of [result.stdout, result.stderr, written]) expect(text).not.toContain("PRIVATE KEY");
    });

    it("says which variable to set when a placeholder cannot stand in for a supplied root's key", async () => {
        const { stackFile } = await teamStack();
        const result = await planCommand([stackFile, "--json"]);
        expect(result.status).toBe(2);
        expect(result.stderr).toContain("secure value spire-istio-mesh:cluster1RootKey: a placeholder (set PLAN_SECRET_SPIRE_ISTIO_MESH_CLUSTER1ROOTKEY to plan with its value)");
        expect(result.stderr).toContain("a supplied root's key needs its real value: PLAN_SECRET_SPIRE_ISTIO_MESH_CLUSTER1ROOTKEY");
    });
});

describe("longestDependencyChain", () => {
    const node = (urn: string, dependsOn: string[] = [], provider = "", custom = true) => ({ urn, dependsOn, provider, custom });

    it("follows dependencies and providers, not components", () => {
        const chain = longestDependencyChain([
            node("provider"),
            node("component", [], "", false),
            node("a", [], "provider"),
            node("b", ["a", "component"], "provider"),
            node("c", ["component"]),
            node("d", ["b"]),
        ]);
        expect(chain).toEqual(["provider", "a", "b", "d"]);
    });

    it("refuses a cycle", () => {
        expect(() => longestDependencyChain([node("a", ["b"]), node("b", ["a"])])).toThrow(/cycle/);
    });
});
