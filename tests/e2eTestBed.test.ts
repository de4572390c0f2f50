/**
 * The real-engine test bed's inputs, checked without Go, Helm or a network. It builds its
 * binaries at the versions the project pins elsewhere: the script reads them from package.json
 * and versions.ts, and each build module's go.mod must require the same, so a bump of one place
 * that forgets the other fails `npm test`, not the next hour-long toolchain build. The chart
 * mirror of the GitHub workflow pulls exactly the pinned charts from the repositories the program
 * names.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { afterAll, describe, expect, it } from "vitest";
import { applyBreak, breaks, programEntries } from "../e2e/breaks/catalogue";
import { pullCommands } from "../e2e/charts/pull";
import { crdOrderProblems, longestChain, StateResource, stepsByOp } from "../e2e/engine/engineState";
import { engineMessage } from "../e2e/runner/engineMessage";
import { packVerdict } from "../e2e/checks/policyPack";
import { scaleVerdict } from "../e2e/scenarios/scale";
import { chartRepositories, defaultVersions, spireChartImages } from "../versions";

const root = join(__dirname, "..");
const cache = mkdtempSync(join(tmpdir(), "e2e-pins-"));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

const dependencies = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies;

/** The Kubernetes version of the node image, read here independently of the script: the tag, with or without a digest after it. */
function kubernetesVersionOf(image: string): string {
    const match = /:(v\d+\.\d+\.\d+)(@sha256:[0-9a-f]{64})?$/.exec(image);
    if (match === null) throw new Error(`kindNodeImage ${image} has no vX.Y.Z tag`);
    return match[1];
}

/** The version a build module's go.mod requires MODULE at (direct or indirect). */
function required(family: string, module: string): string | undefined {
    const goMod = readFileSync(join(root, "e2e", "toolchain", family, "go.mod"), "utf8");
    const escaped = module.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    return new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, "m").exec(goMod)?.[1];
}

describe("e2e/build-toolchain.sh --pins", () => {
    const pins = new Map(
        execFileSync("bash", [join(root, "e2e", "build-toolchain.sh"), "--pins"], { env: { ...process.env, E2E_CACHE: cache }, encoding: "utf8" })
            .trim()
            .split("\n")
            .map((line) => line.split(" ") as [string, string]),
    );

    it("reads the Kubernetes version from the digest-pinned kind node image", () => {
        expect(defaultVersions.kindNodeImage).toContain("@sha256:");
        expect(pins.get("kube")).toBe(kubernetesVersionOf(defaultVersions.kindNodeImage));
    });

    it("reads the CLI's version from @pulumi/pulumi and cert-manager's from versions.ts", () => {
        expect(pins.get("pulumi")).toBe(`v${dependencies["@pulumi/pulumi"]}`);
        expect(pins.get("cert-manager")).toBe(defaultVersions.certManager);
        expect(pins.get("provider-kubernetes")).toBe(dependencies["@pulumi/kubernetes"]);
    });

    it("builds the tls provider at exactly the version @pulumi/tls pins, an exact release (no range)", () => {
        expect(dependencies["@pulumi/tls"]).toMatch(/^\d+\.\d+\.\d+$/);
        expect(pins.get("provider-tls")).toBe(dependencies["@pulumi/tls"]);
    });

    it("builds every plugin the program's SDKs request at exactly the version package.json pins: the language host, command and the cert-manager component", () => {
        expect(pins.get("language-nodejs")).toBe(`v${dependencies["@pulumi/pulumi"]}`);
        for (const [family, sdk] of [["provider-command", "@pulumi/command"], ["provider-kubernetes-cert-manager", "@pulumi/kubernetes-cert-manager"], ["provider-kubernetes", "@pulumi/kubernetes"]]) {
            expect(dependencies[sdk]).toMatch(/^\d+\.\d+\.\d+$/);
            expect(pins.get(family)).toBe(dependencies[sdk]);
        }
    });

    it("builds the mesh's control plane at what the pinned charts run: SPIRE and its controller manager as the spire chart's images, pilot-discovery at the Istio pin", () => {
        expect(pins.get("spire")).toBe(spireChartImages.spire);
        expect(pins.get("spire-controller-manager")).toBe(spireChartImages.controllerManager);
        expect(pins.get("istio")).toBe(defaultVersions.istio);
    });
});

describe("versions.ts spireChartImages (what the spire chart runs, which the toolchain builds)", () => {
    it("were read from the spire chart version the program installs, so a chart bump must revisit them", () => {
        expect(spireChartImages.chart).toBe(defaultVersions.spireChart);
    });

    it("are exact release versions, as the module proxy serves them", () => {
        for (const version of [spireChartImages.spire, spireChartImages.controllerManager]) expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    });
});

describe("e2e/toolchain: what the control plane's build changes upstream", () => {
    it("SPIRE: the one patch only removes lines of the ejbca UpstreamAuthority plugin from the server's catalog", () => {
        const patch = readFileSync(join(root, "e2e", "toolchain", "spire", "drop-ejbca-upstreamauthority.patch"), "utf8");
        const body = patch.slice(patch.indexOf("\n--- "));
        expect([...body.matchAll(/^\+\+\+ b\/(\S+)$/gm)].map((match) => match[1])).toEqual(["pkg/server/catalog/upstreamauthority.go"]);
        const changed = body.split("\n").filter((line) => /^[+-](?![+-]{2} )/.test(line));
        expect(changed.length).toBeGreaterThan(0);
        for (const line of changed) expect(line).toMatch(/^-.*\bejbca\b/);
    });

    it("Istio: each module taken from a repository instead of the proxy names the repository and folder its path says", () => {
        const rows = readFileSync(join(root, "e2e", "toolchain", "istio", "unserved-modules"), "utf8")
            .split("\n")
            .filter((line) => line.trim() !== "" && !line.startsWith("#"))
            .map((line) => line.trim().split(/\s+/));
        expect(rows.length).toBeGreaterThan(0);
        for (const [module, repository, folder, ...rest] of rows) {
            expect(rest, module).toEqual([]);
            // istio.io/<name> is the vanity path of github.com/istio/<name>.
            const path = module.replace(/^istio\.io\//, "github.com/istio/");
            expect(path, module).toBe(`github.com/${repository}${folder === "." ? "" : `/${folder}`}`);
        }
    });
});

describe("the build modules require what the project pins", () => {
    it.each([
        ["kube", "k8s.io/kubernetes", () => kubernetesVersionOf(defaultVersions.kindNodeImage)],
        ["kube", "k8s.io/apiserver", () => kubernetesVersionOf(defaultVersions.kindNodeImage).replace(/^v1\./, "v0.")],
        ["pulumi", "github.com/pulumi/pulumi/pkg/v3", () => `v${dependencies["@pulumi/pulumi"]}`],
        ["pulumi", "github.com/pulumi/pulumi/sdk/v3", () => `v${dependencies["@pulumi/pulumi"]}`],
        ["cert-manager", "github.com/cert-manager/cert-manager", () => defaultVersions.certManager],
    ])("e2e/toolchain/%s/go.mod: %s", (family, module, want) => {
        expect(required(family, module)).toBe(want());
    });
});

describe("e2e/charts/pull.ts (the workflow's mirror of the published charts)", () => {
    // The charts the program installs, listed here rather than taken from package.ts's list.
    const wanted = [
        ["istio", "base", defaultVersions.istio],
        ["istio", "istiod", defaultVersions.istio],
        ["istio", "gateway", defaultVersions.istio],
        ["spiffe", "spire-crds", defaultVersions.spireCrdsChart],
        ["spiffe", "spire", defaultVersions.spireChart],
        ["jetstack", "cert-manager", defaultVersions.certManager],
    ] as const;
    const commands = pullCommands("/mirror");

    it("pulls each chart at its pin from the repository the program installs it from, into that repository's folder", () => {
        const pulls = commands.filter((args) => args[0] === "pull");
        expect(pulls).toHaveLength(wanted.length);
        for (const [repository, chart, version] of wanted) {
            expect(pulls).toContainEqual(["pull", chart, "--repo", chartRepositories[repository], "--version", version, "--destination", `/mirror/${repository}`]);
        }
    });

    it("indexes each repository folder once, after every pull", () => {
        const indexes = commands.map((args, i) => ({ args, i })).filter(({ args }) => args[0] === "repo");
        expect(indexes.map(({ args }) => args.join(" ")).sort()).toEqual(["repo index /mirror/istio", "repo index /mirror/jetstack", "repo index /mirror/spiffe"]);
        const lastPull = commands.map((args) => args[0]).lastIndexOf("pull");
        expect(Math.min(...indexes.map(({ i }) => i))).toBeGreaterThan(lastPull);
    });
});

describe("e2e/breaks/catalogue.ts: the deliberate bugs still apply to the program as it is", () => {
    it.each(Object.entries(breaks))("%s: its text occurs exactly once in its file, and the break changes it", (name, broken) => {
        const text = readFileSync(join(root, broken.file), "utf8");
        const brokenText = applyBreak(name, broken, text);
        expect(brokenText).not.toBe(text);
        expect(programEntries.some((entry) => broken.file === entry || broken.file.startsWith(`${entry}/`)), broken.file).toBe(true);
    });

    it("refuses a break whose text is gone", () => {
        expect(() => applyBreak("x", { ...breaks["crd-order"], find: "no such text" }, "text")).toThrow(/occurs 0 times/);
    });

    it("the copy a break runs holds every file index.ts reaches by relative import", () => {
        const reached = new Set<string>();
        const visit = (file: string) => {
            if (reached.has(file)) return;
            reached.add(file);
            for (const match of readFileSync(file, "utf8").matchAll(/from "(\.{1,2}\/[^"]+)"/g)) {
                const base = resolve(dirname(file), match[1]);
                const target = [`${base}.ts`, join(base, "index.ts")].find((candidate) => existsSync(candidate));
                if (target === undefined) throw new Error(`${relative(root, file)}: cannot resolve ${match[1]}`);
                visit(target);
            }
        };
        visit(join(root, "index.ts"));
        const outside = [...reached].map((file) => relative(root, file)).filter((file) => !programEntries.some((entry) => file === entry || file.startsWith(`${entry}/`)));
        expect(reached.size).toBeGreaterThan(10);
        expect(outside).toEqual([]);
    });
});

describe("e2e/engine/engineState.ts: what the test bed reads from the engine's state and events", () => {
    const provider = (cluster: string): StateResource => ({ urn: `urn:pulumi:s::p::pulumi:providers:kubernetes::${cluster}`, type: "pulumi:providers:kubernetes", custom: true });
    const ref = (cluster: string) => `${provider(cluster).urn}::11111111-2222`;
    const resource = (name: string, type: string, cluster: string, dependencies: string[] = [], chart?: string): StateResource => ({
        urn: `urn:pulumi:s::p::${type}::${name}`,
        type,
        custom: true,
        provider: ref(cluster),
        dependencies,
        ...(chart ? { inputs: { chart } } : {}),
    });
    const namespace = resource("c1-cert-manager-ns", "kubernetes:core/v1:Namespace", "c1");
    const release = resource("c1-cert-manager", "kubernetes:helm.sh/v3:Release", "c1", [namespace.urn], "cert-manager");
    const secret = resource("c1-root-ca", "kubernetes:core/v1:Secret", "c1", [release.urn]);
    const issuerThroughSecret = resource("c1-issuer", "kubernetes:cert-manager.io/v1:Issuer", "c1", [secret.urn]);

    it("accepts a custom resource that waits for its CRD's release through another resource", () => {
        expect(crdOrderProblems([provider("c1"), namespace, release, secret, issuerThroughSecret])).toEqual({ checked: 1, problems: [] });
    });

    it("names a custom resource that does not wait for its CRD's release", () => {
        const loose = resource("c1-issuer", "kubernetes:cert-manager.io/v1:Issuer", "c1", [namespace.urn]);
        const { checked, problems } = crdOrderProblems([provider("c1"), namespace, release, loose]);
        expect(checked).toBe(1);
        expect(problems).toEqual(["c1-issuer (cert-manager.io/v1:Issuer) does not depend on c1-cert-manager (chart cert-manager, which installs its CRD)"]);
    });

    it("does not count a release on another cluster", () => {
        const elsewhere = resource("c2-issuer", "kubernetes:cert-manager.io/v1:Issuer", "c2", [release.urn]);
        expect(crdOrderProblems([provider("c1"), provider("c2"), namespace, release, elsewhere]).problems).toEqual([`${elsewhere.urn}: no release of chart cert-manager on its cluster's provider`]);
    });

    describe("cert-manager through its remote component, whose child Release the engine records under it", () => {
        const component: StateResource = {
            urn: "urn:pulumi:s::p::kubernetes-cert-manager:index:CertManager::c1-cert-manager",
            type: "kubernetes-cert-manager:index:CertManager",
            custom: false,
            dependencies: [namespace.urn],
        };
        const child: StateResource = {
            ...resource("c1-cert-manager-helm", "kubernetes:helm.sh/v3:Release", "c1", [], "cert-manager"),
            urn: "urn:pulumi:s::p::kubernetes-cert-manager:index:CertManager$kubernetes:helm.sh/v3:Release::c1-cert-manager-helm",
            parent: component.urn,
        };
        const issuer = resource("c1-issuer", "kubernetes:cert-manager.io/v1:Issuer", "c1", [component.urn]);

        it("takes an Issuer that depends on the component as waiting for its Release", () => {
            expect(crdOrderProblems([provider("c1"), namespace, component, child, issuer])).toEqual({ checked: 1, problems: [] });
        });

        it("still names an Issuer that depends on neither", () => {
            const loose = resource("c1-issuer", "kubernetes:cert-manager.io/v1:Issuer", "c1", [namespace.urn]);
            expect(crdOrderProblems([provider("c1"), namespace, component, child, loose]).problems).toEqual([
                "c1-issuer (cert-manager.io/v1:Issuer) does not depend on c1-cert-manager-helm (chart cert-manager, which installs its CRD)",
            ]);
        });

        it("counts the component's Release in the longest chain", () => {
            expect(longestChain([provider("c1"), namespace, component, child, issuer])).toEqual(["c1", "c1-cert-manager-helm", "c1-issuer"]);
        });
    });

    it("counts the provider as a step of the longest chain, as the plan does", () => {
        expect(longestChain([provider("c1"), namespace, release, secret, issuerThroughSecret])).toEqual(["c1", "c1-cert-manager-ns", "c1-cert-manager", "c1-root-ca", "c1-issuer"]);
    });

    it("groups an operation's steps by op, leaving out same and read", () => {
        const step = (op: string, urn: string) => ({ sequence: 0, timestamp: 0, resourcePreEvent: { metadata: { op, urn, type: "t", provider: "" } } }) as unknown as EngineEvent;
        const byOp = stepsByOp([step("same", "a"), step("replace", "b"), step("create-replacement", "b"), step("read", "c"), step("update", "d")]);
        expect([...byOp.keys()].sort()).toEqual(["create-replacement", "replace", "update"]);
        expect(byOp.get("replace")).toEqual(["b"]);
    });
});

describe("e2e/runner/engineMessage.ts: a failed engine operation's error, cut to its cause", () => {
    it("keeps each error line with the lines indented below it, and a colon-ended error's lines at its own depth, once each", () => {
        const cliOutput = [
            "Updating (e2e-local):",
            "Diagnostics:",
            "  kubernetes:helm.sh/v3:Release (cluster-1-cert-manager):",
            "    error: values don't meet the specifications of the schema(s) in the following chart(s):",
            "    cert-manager:",
            "    - at '/crds/enabled': got string, want boolean",
            "",
            "  kubernetes:core/v1:Namespace (cluster-2-istio-system):",
            "    error: the server could not find the requested resource",
            "        while creating",
            "    a sibling line at the error's depth",
            "  kubernetes:helm.sh/v3:Release (cluster-2-cert-manager):",
            "    error: the server could not find the requested resource",
            "        while creating",
            "Resources:",
            "    42 unchanged",
        ].join("\n");
        expect(engineMessage(new Error(cliOutput)).split("\n")).toEqual([
            "error: values don't meet the specifications of the schema(s) in the following chart(s):",
            "  cert-manager:",
            "  - at '/crds/enabled': got string, want boolean",
            "error: the server could not find the requested resource",
            "  while creating",
        ]);
    });

    it("leaves out the stack's own error line, and falls back to the whole message when no error line is left", () => {
        expect(engineMessage(new Error("  error: update failed in pulumi:pulumi:Stack spire-istio-mesh-e2e-local\n"))).toBe("error: update failed in pulumi:pulumi:Stack spire-istio-mesh-e2e-local");
        expect(engineMessage("  cluster-1: 2 ClusterFederatedTrustDomains for bar.com, want 1 \n")).toBe("cluster-1: 2 ClusterFederatedTrustDomains for bar.com, want 1");
    });
});

describe("e2e/checks/policyPack.ts packVerdict (what the engine's events say the pack decided)", () => {
    const pack = "spire-istio-mesh-policies";
    const summary = (urn: string, passed: string[], failed: string[] = [], policyPackName = pack) => ({ sequence: 0, timestamp: 0, policyAnalyzeSummaryEvent: { resourceUrn: urn, policyPackName, passed, failed } }) as unknown as EngineEvent;
    const violation = (policyName: string, enforcementLevel: "mandatory" | "warning", message: string, policyPackName = pack) =>
        ({ sequence: 0, timestamp: 0, policyEvent: { policyName, enforcementLevel, message, color: "never", policyPackName, policyPackVersion: "", policyPackVersionTag: "" } }) as EngineEvent;

    it("counts analysed resources and passes per policy of this pack only", () => {
        const verdict = packVerdictOf([summary("u1", ["a", "b"]), summary("u2", ["a"], ["b"]), summary("u3", ["a"], [], "another-pack")]);
        expect(verdict.analysed).toBe(2);
        expect([...verdict.passed]).toEqual([["a", 2], ["b", 1]]);
    });

    it("collects the stack policies that passed from the stack summary", () => {
        const stackSummary = (passed: string[], policyPackName = pack) => ({ sequence: 0, timestamp: 0, policyAnalyzeStackSummaryEvent: { policyPackName, passed } }) as unknown as EngineEvent;
        const verdict = packVerdictOf([stackSummary(["spire-federation", "peer-reader-rbac"]), stackSummary(["x"], "another-pack")]);
        expect(verdict.stackPassed).toEqual(["spire-federation", "peer-reader-rbac"]);
        expect(verdict.analysed).toBe(0);
    });

    it("separates mandatory from advisory violations, and ignores another pack's", () => {
        const verdict = packVerdictOf([violation("helm-charts-pinned", "mandatory", "Release comes from x \n"), violation("gke-private-nodes", "warning", "advice"), violation("p", "mandatory", "m", "another-pack")]);
        expect(verdict.mandatory).toEqual(["helm-charts-pinned: Release comes from x"]);
        expect(verdict.advisory).toEqual(["gke-private-nodes: advice"]);
        expect(verdict.analysed).toBe(0);
    });

    function packVerdictOf(events: EngineEvent[]) {
        return packVerdict(events, pack);
    }
});

describe("e2e/scenarios/scale.ts scaleVerdict", () => {
    it("compares three domains with the mean of the two two-domain runs", () => {
        const verdict = scaleVerdict({ two: 50, three: 66, twoAgain: 60 });
        expect(verdict.ratio).toBeCloseTo(1.2, 5);
        expect(verdict.met).toBe(false);
        expect(verdict.text).toContain("MISSED");
    });

    it("meets the target at exactly 1.15 times", () => {
        expect(scaleVerdict({ two: 40, three: 46, twoAgain: 40 }).met).toBe(true);
    });
});
