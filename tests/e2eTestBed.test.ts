/**
 * The real-engine test bed's inputs, checked without Go, Helm or a network. It builds its
 * binaries at the versions the project pins elsewhere: the script reads them from package.json
 * and versions.ts, and each build module's go.mod must require the same, so a bump of one place
 * that forgets the other fails `npm test`, not the next hour-long toolchain build. The chart
 * mirror of the GitHub workflow pulls exactly the pinned charts from the repositories the program
 * names.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pullCommands } from "../e2e/charts/pull";
import { chartRepositories, defaultVersions } from "../versions";

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
