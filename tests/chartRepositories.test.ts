import { describe, expect, it } from "vitest";
import { loadMeshConfig } from "../config/load";
import { ConfigError } from "../config/errors";
import { parseMeshConfig, ParseOptions, RawConfig } from "../config/parse";
import { deployMesh } from "../mesh";
import { chartRepositories } from "../versions";
import { helmInstallsOf } from "./harness/helmInstalls";
import { runProgramOnce } from "./harness/program";
import { projectConfigOf, stackNames } from "./harness/stacks";

const program = () => deployMesh(loadMeshConfig());

/** Where each chart comes from upstream; a mirror must serve the same chart names. */
const sourceOfChart: Record<string, keyof typeof chartRepositories> = {
    base: "istio",
    istiod: "istio",
    gateway: "istio",
    "spire-crds": "spiffe",
    spire: "spiffe",
    "cert-manager": "jetstack",
};

const mirrors = {
    istio: "https://charts.internal.example/istio",
    spiffe: "https://charts.internal.example/spiffe",
    jetstack: "https://mirror.example:8443/jetstack",
};
const base = () => projectConfigOf("cluster-kind") as RawConfig;

/** The problems config validation reports, as `key = value: allowed`; fails when it accepts. */
function problemsOf(raw: RawConfig, options: ParseOptions = {}): string[] {
    try {
        parseMeshConfig(raw, options);
    } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems.map((p) => `${p.key} = ${JSON.stringify(p.value)}: ${p.allowed}`);
    }
    throw new Error("expected a rejection");
}

describe("chart repositories", () => {
    it.each(stackNames)("%s installs every chart from its public repository by default", async (stack) => {
        const run = await runProgramOnce(program, { stack });
        // Releases, and cert-manager's component (its helmOptions).
        const installs = helmInstallsOf(run.resources);
        expect(installs.length).toBeGreaterThan(0);
        for (const install of installs) {
            expect(install.repositoryOpts, install.resource.name).toEqual({ repo: chartRepositories[sourceOfChart[install.chart]] });
        }
        expect(new Set(installs.map((i) => i.chart))).toEqual(new Set(Object.keys(sourceOfChart)));
    });

    it.each(stackNames)("%s installs every chart, cert-manager's too, from configured mirrors", async (stack) => {
        const run = await runProgramOnce(program, { stack, projectConfig: { ...projectConfigOf(stack), chartRepositories: mirrors } });
        const installs = helmInstallsOf(run.resources);
        expect(new Set(installs.map((i) => i.chart))).toEqual(new Set(Object.keys(sourceOfChart)));
        for (const install of installs) {
            expect(install.repositoryOpts, install.resource.name).toEqual({ repo: mirrors[sourceOfChart[install.chart]] });
        }
        // One cert-manager per cluster, through the component, each from the jetstack mirror
        // (checked in the loop above).
        const certManagers = installs.filter((i) => i.chart === "cert-manager");
        expect(certManagers.map((i) => i.resource.type)).toEqual(["kubernetes-cert-manager:index:CertManager", "kubernetes-cert-manager:index:CertManager"]);
        expect(certManagers.map((i) => i.provider).sort()).toEqual(run.ofType("pulumi:providers:kubernetes").map((p) => p.urn).sort());
    });

    it("mirrors one source and keeps the public repository of the others", () => {
        const mesh = parseMeshConfig({ ...(projectConfigOf("cluster-kind") as RawConfig), chartRepositories: { spiffe: mirrors.spiffe } });
        expect(mesh.chartRepositories).toEqual({ ...chartRepositories, spiffe: mirrors.spiffe });
    });

    it("takes the value as the CLI passes it (JSON text) and treats the declared default {} as no mirror", () => {
        expect(parseMeshConfig({ ...base(), chartRepositories: JSON.stringify({ istio: mirrors.istio }) }).chartRepositories.istio).toBe(mirrors.istio);
        expect(parseMeshConfig({ ...base(), chartRepositories: "{}" }).chartRepositories).toEqual(chartRepositories);
    });

    it("refuses an unknown source, a URL that is not http(s) and a value that is not an object, naming the key", () => {
        expect(problemsOf({ ...base(), chartRepositories: { cilium: "https://helm.cilium.io", istio: "ftp://mirror.example/istio" } })).toEqual([
            'chartRepositories.istio = "ftp://mirror.example/istio": must be the https:// URL of a Helm chart repository (the folder holding index.yaml)',
            'chartRepositories.cilium = "https://helm.cilium.io": is not a chart source; allowed: istio, spiffe, jetstack',
        ]);
        expect(problemsOf({ ...base(), chartRepositories: ["https://mirror"] })).toEqual([
            'chartRepositories = ["https://mirror"]: must be an object mapping chart sources (istio, spiffe, jetstack) to repository URLs',
        ]);
    });

    it("refuses an OCI registry, saying that OCI chart sources are not supported", () => {
        expect(problemsOf({ ...base(), chartRepositories: { istio: "oci://registry.example/istio" } })).toEqual([
            'chartRepositories.istio = "oci://registry.example/istio": is an OCI registry, and OCI chart sources are not supported: the program installs each chart by name from a classic Helm repository\'s index.yaml; mirror the charts into a chart repository and give the https:// URL of a Helm chart repository (the folder holding index.yaml)',
        ]);
    });

    it.each([
        ["https://mirror.example/charts/index.yaml", "https://mirror.example/charts"],
        ["https://mirror.example/index.yaml/", "https://mirror.example/"],
        ["https://mirror.example/charts/INDEX.YML", "https://mirror.example/charts"],
    ])("refuses %s, the index file instead of its folder, and names the folder", (url, folder) => {
        expect(problemsOf({ ...base(), chartRepositories: { spiffe: url } })).toEqual([
            `chartRepositories.spiffe = "${url}": names the index file; must be the folder holding it, e.g. ${folder}`,
        ]);
    });

    it("refuses credentials inside a URL, which config, state and policy messages would show", () => {
        for (const url of ["https://robot:hunter2@mirror.example/istio", "https://robot@mirror.example/istio"]) {
            expect(problemsOf({ ...base(), chartRepositories: { istio: url } })).toEqual([
                `chartRepositories.istio = "${url}": must not carry credentials (user:password@): a URL is kept in plain text in the stack config, the state and policy messages; give them in chartRepositoryCredentials, the password in a secret config key`,
            ]);
        }
    });

    it("refuses plain http unless allowPlaintextChartRepositories says so", () => {
        const plaintext = { istio: "http://127.0.0.1:8879/istio" };
        expect(problemsOf({ ...base(), chartRepositories: plaintext })).toEqual([
            'chartRepositories.istio = "http://127.0.0.1:8879/istio": must be an https:// URL: over plain http anyone on the network path can swap the charts; set allowPlaintextChartRepositories: true only for a mirror on a trusted network such as loopback',
        ]);
        // As the CLI hands the boolean over: text.
        expect(parseMeshConfig({ ...base(), chartRepositories: plaintext, allowPlaintextChartRepositories: "true" }).chartRepositories.istio).toBe(plaintext.istio);
        expect(problemsOf({ ...base(), allowPlaintextChartRepositories: "yes" })).toEqual(['allowPlaintextChartRepositories = "yes": must be true or false']);
    });
});

describe("chart repository credentials", () => {
    const credentials = { istio: { username: "robot", passwordConfigKey: "istioMirrorPassword" } };
    const secretKeys = { hasSecretKey: (key: string) => key === "istioMirrorPassword" };

    it("hand Helm the user name and the password from secret config, both as Pulumi secrets, for that source only", async () => {
        const run = await runProgramOnce(program, {
            stack: "cluster-kind",
            projectConfig: { ...base(), chartRepositories: mirrors, chartRepositoryCredentials: credentials },
            secretConfig: { istioMirrorPassword: "s3cret-pw" },
        });
        const releases = run.ofType("kubernetes:helm.sh/v3:Release");
        const istio = releases.filter((r) => sourceOfChart[r.inputs.chart] === "istio");
        expect(istio.length).toBeGreaterThan(0);
        for (const release of istio) {
            expect(release.inputs.repositoryOpts, release.name).toEqual({ repo: mirrors.istio, username: "robot", password: "s3cret-pw" });
            expect(release.secretInputPaths, release.name).toEqual(expect.arrayContaining(["repositoryOpts.username", "repositoryOpts.password"]));
        }
        for (const release of releases.filter((r) => sourceOfChart[r.inputs.chart] !== "istio")) {
            expect(release.inputs.repositoryOpts, release.name).toEqual({ repo: mirrors[sourceOfChart[release.inputs.chart]] });
        }
    });

    it("reach cert-manager's component as Pulumi secrets in its helmOptions, for the jetstack mirror", async () => {
        const jetstackCredentials = { jetstack: { username: "robot", passwordConfigKey: "jetstackMirrorPassword" } };
        const run = await runProgramOnce(program, {
            stack: "cluster-kind",
            projectConfig: { ...base(), chartRepositories: mirrors, chartRepositoryCredentials: jetstackCredentials },
            secretConfig: { jetstackMirrorPassword: "s3cret-pw" },
        });
        const installs = helmInstallsOf(run.resources);
        const certManagers = installs.filter((i) => i.chart === "cert-manager");
        expect(certManagers).toHaveLength(2);
        for (const { resource, repositoryOpts } of certManagers) {
            expect(resource.type).toBe("kubernetes-cert-manager:index:CertManager");
            expect(repositoryOpts, resource.name).toEqual({ repo: mirrors.jetstack, username: "robot", password: "s3cret-pw" });
            expect(resource.secretInputPaths, resource.name).toEqual(
                expect.arrayContaining(["helmOptions.repositoryOpts.username", "helmOptions.repositoryOpts.password"]),
            );
        }
        for (const { resource, chart, repositoryOpts } of installs.filter((i) => i.chart !== "cert-manager")) {
            expect(repositoryOpts, resource.name).toEqual({ repo: mirrors[sourceOfChart[chart]] });
        }
    });

    it("are parsed from the JSON text the CLI hands over", () => {
        const mesh = parseMeshConfig({ ...base(), chartRepositories: JSON.stringify(mirrors), chartRepositoryCredentials: JSON.stringify(credentials) }, secretKeys);
        expect(mesh.chartRepositoryCredentials).toEqual(credentials);
    });

    it("refuse a password key that is not secret, an unknown source, a public repository and a plaintext mirror", () => {
        expect(problemsOf({ ...base(), chartRepositories: mirrors, chartRepositoryCredentials: credentials })).toEqual([
            'chartRepositoryCredentials.istio.passwordConfigKey = "istioMirrorPassword": must name a secret config key holding the repository\'s password (set it with: pulumi config set --secret istioMirrorPassword)',
        ]);
        const robot = credentials.istio;
        expect(
            problemsOf(
                {
                    ...base(),
                    chartRepositories: { istio: "http://127.0.0.1:8879/istio" },
                    allowPlaintextChartRepositories: true,
                    chartRepositoryCredentials: { istio: robot, spiffe: robot, cilium: robot },
                },
                secretKeys,
            ),
        ).toEqual([
            `chartRepositoryCredentials.istio = ${JSON.stringify(robot)}: must belong to an https:// mirror: chartRepositories.istio is http://127.0.0.1:8879/istio, which would send the password in clear`,
            `chartRepositoryCredentials.spiffe = ${JSON.stringify(robot)}: must name a source mirrored in chartRepositories: spiffe installs from the public ${chartRepositories.spiffe}, which takes no credentials`,
            `chartRepositoryCredentials.cilium = ${JSON.stringify(robot)}: is not a chart source; allowed: istio, spiffe, jetstack`,
        ]);
        expect(problemsOf({ ...base(), chartRepositories: mirrors, chartRepositoryCredentials: { istio: { username: "robot", password: "x" } } }, secretKeys)).toEqual([
            "chartRepositoryCredentials.istio.passwordConfigKey = undefined: is required",
            'chartRepositoryCredentials.istio.password = "x": is not a chart repository credential setting; allowed: username, passwordConfigKey',
        ]);
    });
});
