import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { V1Node } from "@kubernetes/client-node";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { loadMeshConfig, readKubeconfigFileContext } from "../config/load";
import { ConfigError } from "../config/errors";
import { parseMeshConfig, RawConfig } from "../config/parse";
import { ExistingCluster, nodeAddressOf } from "../components/existingCluster";
import { contextKubeconfig } from "../lib/contextKubeconfig";
import { deployMesh } from "../mesh";
import { isSecretOutput, resolve, runProgram, runProgramOnce } from "./harness/program";
import { HelmInstall, helmInstallsOf } from "./harness/helmInstalls";

/** A user's kubeconfig with two clusters, one of them reached through a relative CA path and an exec plugin. */
function userKubeconfig(): Record<string, unknown> {
    return {
        apiVersion: "v1",
        kind: "Config",
        clusters: [
            { name: "east", cluster: { server: "https://10.1.0.1:6443", "certificate-authority": "certs/east-ca.crt" } },
            { name: "west", cluster: { server: "https://10.2.0.1:6443", "certificate-authority-data": "V0VTVA==" } },
        ],
        users: [
            { name: "east-admin", user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "east-login" } } },
            { name: "west-admin", user: { token: "west-token" } },
        ],
        contexts: [
            { name: "east-ctx", context: { cluster: "east", user: "east-admin", namespace: "team" } },
            { name: "west-ctx", context: { cluster: "west", user: "west-admin" } },
        ],
        "current-context": "west-ctx",
    };
}

const folder = mkdtempSync(join(tmpdir(), "existing-cluster-test-"));
const kubeconfigPath = join(folder, "config");
writeFileSync(kubeconfigPath, stringify(userKubeconfig()));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const domains = (extra: (index: number) => Record<string, unknown>) =>
    [
        { name: "cluster-1", trustDomain: "foo.com", network: "foo-network" },
        { name: "cluster-2", trustDomain: "bar.com", network: "bar-network" },
    ].map((domain, index) => ({ ...domain, existing: extra(index) }));

const contexts = ["east-ctx", "west-ctx"];

function problemsOf(raw: RawConfig): string[] {
    try {
        parseMeshConfig(raw, { readKubeconfigContext: readKubeconfigFileContext });
    } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems.map((p) => `${p.key} = ${JSON.stringify(p.value)}: ${p.allowed}`);
    }
    throw new Error("expected the config to be rejected");
}

describe("a kubeconfig context, cut out for the provider", () => {
    it("keeps only that context, its cluster and its user, with file paths made absolute", () => {
        const cut = contextKubeconfig(stringify(userKubeconfig()), "east-ctx", "/home/me/.kube");
        const document = parse(cut.kubeconfig) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
        expect(cut.server).toBe("https://10.1.0.1:6443");
        expect(document["current-context"]).toBe("east-ctx");
        expect(document.clusters).toEqual([
            { name: "east", cluster: { server: "https://10.1.0.1:6443", "certificate-authority": "/home/me/.kube/certs/east-ca.crt" } },
        ]);
        expect(document.users.map((u: { name: string }) => u.name)).toEqual(["east-admin"]);
        expect(document.users[0].user.exec.command).toBe("east-login");
        expect(document.contexts).toEqual([{ name: "east-ctx", context: { cluster: "east", user: "east-admin", namespace: "team" } }]);
        expect(cut.kubeconfig).not.toContain("west-token");
    });

    it("says which contexts exist when the named one does not", () => {
        expect(() => contextKubeconfig(stringify(userKubeconfig()), "north", "/")).toThrow('has no context "north" (contexts: east-ctx, west-ctx)');
    });

    it("refuses a context whose user is missing", () => {
        const broken = { ...userKubeconfig(), users: [] };
        expect(() => contextKubeconfig(stringify(broken), "west-ctx", "/")).toThrow('has no user "west-admin" for context "west-ctx"');
    });
});

describe("platform existing: config", () => {
    const base = { platform: "existing" };

    it("reads each context's server as the API server peers use, unless configured, and defaults to LoadBalancer", () => {
        const mesh = parseMeshConfig(
            {
                ...base,
                domains: domains((i) => ({
                    context: contexts[i],
                    kubeconfig: kubeconfigPath,
                    ...(i === 1 ? { apiServerUrl: "https://api.west.example:443" } : {}),
                })),
            },
            { readKubeconfigContext: readKubeconfigFileContext },
        );
        expect(mesh.exposure).toBe("LoadBalancer");
        expect(mesh.domains.map((d) => [d.existing?.context, d.existing?.kubeconfigPath, d.existing?.apiServerUrl])).toEqual([
            ["east-ctx", kubeconfigPath, "https://10.1.0.1:6443"],
            ["west-ctx", kubeconfigPath, "https://api.west.example:443"],
        ]);
        expect(mesh.domains.every((d) => !d.kind && !d.gke)).toBe(true);
    });

    it("finds the context in $KUBECONFIG when no file is named", () => {
        const saved = process.env.KUBECONFIG;
        process.env.KUBECONFIG = [join(folder, "absent"), kubeconfigPath].join(":");
        try {
            expect(readKubeconfigFileContext(undefined, "west-ctx").path).toBe(kubeconfigPath);
        } finally {
            if (saved === undefined) delete process.env.KUBECONFIG;
            else process.env.KUBECONFIG = saved;
        }
    });

    it("reports a missing block, a missing file, an unknown context and bad addresses, each with its key", () => {
        expect(problemsOf({ ...base, domains: domains(() => ({})).map(({ existing: _, ...d }) => d) })).toEqual([
            "domains[0].existing = undefined: is required on platform existing: an object with at least context",
            "domains[1].existing = undefined: is required on platform existing: an object with at least context",
        ]);
        expect(
            problemsOf({
                ...base,
                domains: domains((i) =>
                    i === 0
                        ? { context: "east-ctx", kubeconfig: kubeconfigPath, nodeAddress: "not an address!" }
                        : { context: "west-ctx", kubeconfig: kubeconfigPath, apiServerUrl: "http://10.2.0.1:6443" },
                ),
            }),
        ).toEqual([
            "domains[0].existing.nodeAddress = \"not an address!\": must be an IP address or DNS name at which peers reach this cluster's node ports",
            "domains[1].existing.apiServerUrl = \"http://10.2.0.1:6443\": must be the https:// URL at which peers' pods reach this cluster's API server",
        ]);
        // The file is read once the settings themselves are valid.
        expect(
            problemsOf({
                ...base,
                domains: domains((i) =>
                    i === 0 ? { context: "east-ctx", kubeconfig: join(folder, "nope") } : { context: "north", kubeconfig: kubeconfigPath },
                ),
            }),
        ).toEqual([
            `domains[0].existing.kubeconfig = ${JSON.stringify(join(folder, "nope"))}: must name a readable kubeconfig holding context "east-ctx": ${join(folder, "nope")} does not exist`,
            // The file was read: the context is what is wrong, so the problem is reported under it.
            `domains[1].existing.context = "north": must name a readable kubeconfig holding context "north": ${kubeconfigPath} has no context "north" (contexts: east-ctx, west-ctx)`,
        ]);
    });

    it("refuses two domains on one cluster", () => {
        expect(problemsOf({ ...base, domains: domains(() => ({ context: "east-ctx", kubeconfig: kubeconfigPath })) })).toEqual([
            'domains[1].existing = "https://10.1.0.1:6443": must reach a cluster of its own; domains[0] already uses that API server (one trust domain per cluster)',
        ]);
    });

    describe("two domains on one API server, however it is written", () => {
        // A second file whose contexts reach east's API server under other spellings.
        const aliasesPath = join(folder, "aliases");
        writeFileSync(
            aliasesPath,
            stringify({
                apiVersion: "v1",
                kind: "Config",
                clusters: [
                    { name: "east-slash", cluster: { server: "https://10.1.0.1:6443/" } },
                    { name: "east-upper", cluster: { server: "HTTPS://10.1.0.1:6443" } },
                    { name: "south", cluster: { server: "https://10.3.0.1" } },
                ],
                users: [{ name: "u", user: { token: "t" } }],
                contexts: [
                    { name: "east-slash-ctx", context: { cluster: "east-slash", user: "u" } },
                    { name: "east-upper-ctx", context: { cluster: "east-upper", user: "u" } },
                    { name: "south-ctx", context: { cluster: "south", user: "u" } },
                ],
            }),
        );
        const twoDomains = (second: Record<string, unknown>) =>
            domains((i) => (i === 0 ? { context: "east-ctx", kubeconfig: kubeconfigPath } : { kubeconfig: aliasesPath, ...second }));
        const clash = "must reach a cluster of its own; domains[0] already uses that API server (one trust domain per cluster)";

        it.each(["east-slash-ctx", "east-upper-ctx"])("refuses a context that reaches the first's server written differently (%s)", (context) => {
            const problems = problemsOf({ ...base, domains: twoDomains({ context }) });
            expect(problems).toHaveLength(1);
            expect(problems[0]).toMatch(/^domains\[1\]\.existing = /);
            expect(problems[0]).toContain(clash);
        });

        it("refuses a context on the same server even when apiServerUrl tells peers another address", () => {
            const problems = problemsOf({ ...base, domains: twoDomains({ context: "east-slash-ctx", apiServerUrl: "https://api.east.example" }) });
            expect(problems).toEqual([
                `domains[1].existing = ${JSON.stringify({ context: "east-slash-ctx", server: "https://10.1.0.1:6443/", apiServerUrl: "https://api.east.example" })}: ${clash}`,
            ]);
        });

        it("refuses an apiServerUrl that sends peers to another domain's API server (the default port written out)", () => {
            const problems = problemsOf({
                ...base,
                domains: domains((i) =>
                    i === 0
                        ? { context: "south-ctx", kubeconfig: aliasesPath }
                        : { context: "west-ctx", kubeconfig: kubeconfigPath, apiServerUrl: "https://10.3.0.1:443/" },
                ),
            });
            expect(problems).toHaveLength(1);
            expect(problems[0]).toContain(clash);
        });

        it("accepts two clusters on distinct servers", () => {
            const mesh = parseMeshConfig({ ...base, domains: twoDomains({ context: "south-ctx" }) }, { readKubeconfigContext: readKubeconfigFileContext });
            expect(mesh.domains.map((d) => d.existing?.contextServer)).toEqual(["https://10.1.0.1:6443", "https://10.3.0.1"]);
        });
    });

    it("refuses unknown settings", () => {
        expect(problemsOf({ ...base, domains: domains((i) => ({ context: contexts[i], kubeconfig: kubeconfigPath, zone: "a" })) })).toEqual([
            'domains[0].existing.zone = "a": is not a setting of an existing cluster; allowed: context, kubeconfig, apiServerUrl, nodeAddress',
            'domains[1].existing.zone = "a": is not a setting of an existing cluster; allowed: context, kubeconfig, apiServerUrl, nodeAddress',
        ]);
    });
});

function node(name: string, ready: boolean, addresses: [string, string][], unschedulable = false): V1Node {
    return {
        metadata: { name },
        spec: { unschedulable },
        status: {
            conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
            addresses: addresses.map(([type, address]) => ({ type, address })),
        },
    };
}

describe("the NodePort address of an existing cluster", () => {
    it("prefers an ExternalIP of a Ready, schedulable node, by node name", () => {
        expect(
            nodeAddressOf([
                node("b", true, [["InternalIP", "10.0.0.2"], ["ExternalIP", "203.0.113.2"]]),
                node("a", true, [["InternalIP", "10.0.0.1"]]),
                node("0-cordoned", true, [["ExternalIP", "203.0.113.9"]], true),
                node("0-down", false, [["ExternalIP", "203.0.113.8"]]),
            ]),
        ).toBe("203.0.113.2");
    });

    it("falls back to the first InternalIP, and to nothing when no node is usable", () => {
        expect(nodeAddressOf([node("b", true, [["InternalIP", "10.0.0.2"]]), node("a", true, [["InternalIP", "10.0.0.1"]])])).toBe("10.0.0.1");
        expect(nodeAddressOf([node("a", false, [["InternalIP", "10.0.0.1"]])])).toBeUndefined();
    });

    it("asks the cluster only when no address is configured", async () => {
        const asked: string[] = [];
        const listNodes = async (kubeconfig: string) => {
            asked.push((parse(kubeconfig) as { "current-context": string })["current-context"]);
            return [node("n", true, [["InternalIP", "10.9.0.7"]])];
        };
        const mesh = parseMeshConfig(
            { platform: "existing", exposure: "NodePort", domains: domains((i) => ({ context: contexts[i], kubeconfig: kubeconfigPath })) },
            { readKubeconfigContext: readKubeconfigFileContext },
        );
        const run = await runProgram(
            () =>
                mesh.domains.map(
                    (d) => new ExistingCluster(d.name, { clusterName: d.name, settings: d.existing!, exposure: "NodePort", listNodes }),
                ),
            { stack: "cluster-kind" },
        );
        expect(await Promise.all(run.result.map((cluster) => resolve(cluster.nodeAddress!)))).toEqual(["10.9.0.7", "10.9.0.7"]);
        expect(asked.sort()).toEqual(["east-ctx", "west-ctx"]);
    });
});

describe("platform existing: the mesh", () => {
    const program = () => deployMesh(loadMeshConfig());
    const projectConfig = {
        platform: "existing",
        exposure: "NodePort",
        meshId: "multi-mesh",
        domains: domains((i) => ({ context: contexts[i], kubeconfig: kubeconfigPath, nodeAddress: `192.0.2.${i + 1}` })),
    };

    it("reaches each cluster through one provider holding only its context, as a secret, and creates no cluster", async () => {
        const run = await runProgramOnce(program, { stack: "cluster-kind", projectConfig });
        expect(run.ofType("command:local:Command")).toEqual([]);
        expect(run.resources.filter((r) => r.type.startsWith("gcp:"))).toEqual([]);
        const providers = run.ofType("pulumi:providers:kubernetes");
        expect(providers.map((p) => p.inputs.context).sort()).toEqual(contexts);
        for (const provider of providers) {
            expect(provider.secretInputPaths).toContain("kubeconfig");
            const document = parse(String(provider.inputs.kubeconfig)) as { contexts: { name: string }[] };
            expect(document.contexts.map((c) => c.name)).toEqual([provider.inputs.context]);
            expect(provider.inputs.deleteUnreachable).toBeUndefined();
        }
        for (const domain of run.result.domains) expect(await isSecretOutput(domain.cluster.kubeconfig)).toBe(true);
    });

    it("deletes its objects one by one (no cluster deletion takes them along)", async () => {
        const run = await runProgramOnce(program, { stack: "cluster-kind", projectConfig });
        const objects = run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
        expect(objects.length).toBeGreaterThan(0);
        for (const object of objects) expect(object.deletedWith, object.name).toBe("");
    });

    it("gives peers the configured node address and the context's API server", async () => {
        const run = await runProgramOnce(program, { stack: "cluster-kind", projectConfig });
        const outputs = run.result.outputs;
        expect(await resolve(outputs["cluster-1"].bundleEndpointUrl)).toBe("https://192.0.2.1:30843");
        expect(await resolve(outputs["cluster-2"].eastWestAddress)).toBe("192.0.2.2:31443");
        expect(await resolve(outputs["cluster-1"].apiServerUrl)).toBe("https://10.1.0.1:6443");
        expect(await resolve(outputs["cluster-2"].apiServerUrl)).toBe("https://10.2.0.1:6443");
    });
});

/**
 * What destroy leaves of the charts' CRDs. Helm leaves a CRD on uninstall when the manifest it
 * stored marks it `helm.sh/resource-policy: keep`: Istio's `base` and `spire-crds` write that mark
 * themselves (only the post-renderer takes it out), cert-manager writes it when `crds.keep` is true.
 */
describe("CRDs on destroy follow who created the cluster", () => {
    const program = () => deployMesh(loadMeshConfig());
    const releasesOf = async (stack: "cluster-kind" | "cluster-gke", projectConfig?: Record<string, unknown>) =>
        helmInstallsOf((await runProgramOnce(program, { stack, ...(projectConfig ? { projectConfig } : {}) })).resources);
    /**
     * Per chart that installs CRDs: whether Helm would leave them on uninstall, for every release of
     * it (cert-manager's: the values its component passes on to the chart).
     */
    const crdsLeftBehind = (releases: HelmInstall[]) => ({
        base: releases.filter((r) => r.chart === "base").map((r) => r.postrender === undefined),
        "spire-crds": releases.filter((r) => r.chart === "spire-crds").map((r) => r.postrender === undefined),
        "cert-manager": releases.filter((r) => r.chart === "cert-manager").map((r) => (r.values.crds as { keep?: unknown }).keep === true),
    });
    const existingConfig = (extra: Record<string, unknown> = {}) => ({
        platform: "existing",
        exposure: "NodePort",
        meshId: "multi-mesh",
        domains: domains((i) => ({ context: contexts[i], kubeconfig: kubeconfigPath, nodeAddress: `192.0.2.${i + 1}` })),
        ...extra,
    });
    const kept = { base: [true, true], "spire-crds": [true, true], "cert-manager": [true, true] };
    const removed = { base: [false, false], "spire-crds": [false, false], "cert-manager": [false, false] };

    it("on clusters the program was given (platform existing, kind contexts) keeps every chart's CRDs", async () => {
        expect(crdsLeftBehind(await releasesOf("cluster-kind", existingConfig()))).toEqual(kept);
        const kindDomains = [
            { name: "cluster-1", trustDomain: "foo.com", network: "foo-network", kind: { context: "kind-team-one" } },
            { name: "cluster-2", trustDomain: "bar.com", network: "bar-network", kind: { context: "kind-team-two" } },
        ];
        expect(crdsLeftBehind(await releasesOf("cluster-kind", { platform: "kind", domains: kindDomains }))).toEqual(kept);
    });

    it("removes them there only when the stack opts in with removeCrdsOnDestroy", async () => {
        expect(crdsLeftBehind(await releasesOf("cluster-kind", existingConfig({ removeCrdsOnDestroy: "true" })))).toEqual(removed);
    });

    it("on clusters the program creates (kind, GKE) removes them as before, whatever the key says", async () => {
        expect(crdsLeftBehind(await releasesOf("cluster-kind"))).toEqual(removed);
        expect(crdsLeftBehind(await releasesOf("cluster-gke"))).toEqual(removed);
    });
});
