import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { evaluatePolicies, fromDeclared } from "../policy-pack/evaluate";
import { longestDependencyChain } from "../scripts/plan/graph";
import { exitCodeOf, Plan, PlanOptions, planStack as planStackFresh, renderPlan, writeManifests } from "../scripts/plan/plan";
import { projectConfigOf, projectRoot, stackNames, withThirdDomain } from "./harness/stacks";

/** Plans are only read here: one per options. */
const plans = new Map<string, Promise<Plan>>();
function planStack(options: PlanOptions): Promise<Plan> {
    const key = JSON.stringify(options);
    if (!plans.has(key)) plans.set(key, planStackFresh(options));
    return plans.get(key)!;
}

describe.each(stackNames)("offline plan of %s", (stack) => {
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

describe("configs and changes broken on purpose are caught", () => {
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

    it("the plan command exits 0 on a clean stack and 2 on a bad command line", () => {
        const cli = (args: string[]) =>
            spawnSync(process.execPath, [join(projectRoot, "node_modules", "tsx", "dist", "cli.mjs"), "scripts/plan/cli.ts", ...args], {
                cwd: projectRoot,
                encoding: "utf8",
            });
        const out = mkdtempSync(join(tmpdir(), "plan-cli-"));
        const clean = cli(["--stack", "cluster-kind", "--out", out, "--json"]);
        expect(clean.status, clean.stderr).toBe(0);
        expect(JSON.parse(clean.stdout).violations.filter((v: { enforcementLevel: string }) => v.enforcementLevel === "mandatory")).toEqual([]);
        expect(cli(["--stack", "nope"]).status).toBe(2);
    }, 60_000);

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
