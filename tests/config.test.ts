import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadMeshConfig } from "../config/load";
import { configKeys } from "../config/keys";
import { parseMeshConfig, RawConfig } from "../config/parse";
import { ConfigError } from "../config/errors";
import { deployMesh } from "../mesh";
import { defaultVersions } from "../versions";
import { createTestRootCa } from "./harness/certificates";
import { runProgram } from "./harness/program";
import { projectConfigOf, projectRoot, stackNames } from "./harness/stacks";

const kind = () => projectConfigOf("cluster-kind") as RawConfig;
const gke = () => projectConfigOf("cluster-gke") as RawConfig;
type Domain = Record<string, unknown>;
const domainsOf = (raw: RawConfig) => structuredClone(raw.domains) as Domain[];

/** Parses and returns the single problem message, failing when parsing succeeds. */
function problemsOf(raw: RawConfig, options = {}): string[] {
    try {
        parseMeshConfig(raw, options);
    } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems.map((p) => `${p.key} = ${JSON.stringify(p.value)}: ${p.allowed}`);
    }
    throw new Error("expected the config to be rejected");
}

describe("the stack files", () => {
    it.each(stackNames)("%s describes the seed's mesh and parses", (stack) => {
        const mesh = parseMeshConfig(projectConfigOf(stack) as RawConfig);
        expect(mesh.meshId).toBe("multi-mesh");
        expect(mesh.domains.map((d) => [d.name, d.trustDomain, d.network])).toEqual([
            ["cluster-1", "foo.com", "foo-network"],
            ["cluster-2", "bar.com", "bar-network"],
        ]);
    });

    it("switches platform and exposure by stack config alone", () => {
        const kindMesh = parseMeshConfig(kind());
        const gkeMesh = parseMeshConfig(gke());
        expect([kindMesh.platform, kindMesh.exposure]).toEqual(["kind", "NodePort"]);
        expect([gkeMesh.platform, gkeMesh.exposure]).toEqual(["gke", "LoadBalancer"]);
        expect(kindMesh.domains.every((d) => d.kind?.nodeImage === defaultVersions.kindNodeImage && !d.gke)).toBe(true);
        expect(gkeMesh.domains.every((d) => d.gke?.project === "multi-mesh-demo" && !d.kind)).toBe(true);
    });

    it.each(stackNames)("%s disables the default Kubernetes provider", (stack) => {
        const file = parse(readFileSync(join(projectRoot, `Pulumi.${stack}.yaml`), "utf8"));
        expect(file.config["pulumi:disable-default-providers"]).toEqual(["kubernetes"]);
    });

    it("Pulumi.yaml declares exactly the keys the program reads, with the program's defaults", () => {
        const project = parse(readFileSync(join(projectRoot, "Pulumi.yaml"), "utf8"));
        const declared = project.config as Record<string, { type: string; items?: unknown; default?: unknown; description: string }>;
        expect(Object.keys(declared).sort()).toEqual(Object.keys(configKeys).sort());
        for (const [key, spec] of Object.entries(configKeys)) {
            expect(declared[key].type, key).toBe(spec.type);
            expect(declared[key].items, key).toEqual("items" in spec ? spec.items : undefined);
            expect(declared[key].description, key).toBe(spec.description);
            expect(declared[key].default, key).toEqual("default" in spec ? spec.default : undefined);
        }
    });

    it("applies the documented defaults", () => {
        const mesh = parseMeshConfig(kind());
        expect(mesh.certificates).toEqual({ rootCaValidity: "87600h", istiodCertDuration: "1440h", istiodCertRenewBefore: "360h" });
        expect(mesh.versions).toEqual(defaultVersions);
        expect(mesh.samplesEnabled).toBe(true);
        expect(mesh.nodePorts).toEqual({ bundleEndpoint: 30843, eastWest: 31443, ingressHttp: 30080 });
    });

    it("takes values as the CLI passes them: strings, with JSON for structures", () => {
        const raw = { ...kind(), domains: JSON.stringify(kind().domains), eastWestNodePort: "31000", samplesEnabled: "false" };
        const mesh = parseMeshConfig(raw);
        expect(mesh.nodePorts.eastWest).toBe(31000);
        expect(mesh.samplesEnabled).toBe(false);
        expect(mesh.domains).toHaveLength(2);
    });

    it("lets config override a pinned version", () => {
        expect(parseMeshConfig({ ...kind(), istioVersion: "1.30.4" }).versions.istio).toBe("1.30.4");
    });
});

describe("bad config is rejected with the key, the value and what is allowed", () => {
    it("fewer than two domains", () => {
        expect(problemsOf({ ...kind(), domains: domainsOf(kind()).slice(0, 1) })).toEqual([
            'domains = "1 domain(s)": must list at least two domains: federation needs a peer (or name peers in other stacks with peerStacks)',
        ]);
    });

    it("no domains at all", () => {
        expect(problemsOf({ ...kind(), domains: undefined })[0]).toMatch(/^domains = undefined: is required/);
    });

    it.each([
        ["name", "cluster-1"],
        ["trustDomain", "foo.com"],
        ["network", "foo-network"],
    ])("duplicate %s", (field, value) => {
        const domains = domainsOf(kind());
        domains[1][field] = value;
        expect(problemsOf({ ...kind(), domains })).toEqual([
            `domains[1].${field} = "${value}": must be unique across domains; domains[0].${field} already uses it`,
        ]);
    });

    it.each([
        ["spiffe://foo.com", /has a scheme/],
        ["foo.com:8443", /has a port/],
        ["foo.com/ns", /has a path/],
        ["Foo.com", /has uppercase letters/],
        ["foo com", /characters outside the allowed set/],
        ["", /is required/],
    ])("trust domain %j", (trustDomain, message) => {
        const domains = domainsOf(kind());
        domains[0].trustDomain = trustDomain;
        const problems = problemsOf({ ...kind(), domains });
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(/^domains\[0\]\.trustDomain = /);
        expect(problems[0]).toMatch(message);
    });

    it("accepts a trust domain of any DNS labels, up to Kubernetes' 253 characters", () => {
        const domains = domainsOf(kind());
        domains[0].trustDomain = "a-b.0-9.example";
        domains[1].trustDomain = [63, 63, 63, 61].map((length, index) => "abcd"[index].repeat(length)).join(".");
        expect(parseMeshConfig({ ...kind(), domains }).domains.map((d) => d.trustDomain)).toEqual([domains[0].trustDomain, domains[1].trustDomain]);
    });

    // SPIFFE allows each of these; Istio 1.30's meshConfig validation (ValidateTrustDomain) or the
    // ClusterFederatedTrustDomain named after a peer's trust domain (a DNS-1123 subdomain) does not.
    it.each([
        ["foo.com.", /has an empty label/],
        ["..", /has an empty label/],
        [".foo.com", /has an empty label/],
        ["foo..com", /has an empty label/],
        ["a_b.com", /has '_', which SPIFFE allows but Istio's meshConfig.trustDomain and Kubernetes object names refuse/],
        ["-foo.com", /has a label that starts or ends with '-'/],
        ["foo-.com", /has a label that starts or ends with '-'/],
        [`${"a".repeat(64)}.com`, /has a label longer than 63 characters/],
        [[63, 63, 63, 62].map((n) => "a".repeat(n)).join("."), /is longer than 253 characters/],
    ])("refuses trust domain %j, which an object named after it could not carry", (trustDomain, message) => {
        const domains = domainsOf(kind());
        domains[1].trustDomain = trustDomain;
        const problems = problemsOf({ ...kind(), domains });
        expect(problems).toHaveLength(1);
        expect(problems[0].startsWith(`domains[1].trustDomain = ${JSON.stringify(trustDomain)}: `), problems[0]).toBe(true);
        expect(problems[0]).toMatch(message);
        expect(problems[0]).toMatch(/dot-separated labels of 1 to 63 lowercase letters, digits and '-'/);
    });

    it("refuses such a trust domain in peerStacks too (it names this stack's ClusterFederatedTrustDomain for the peer)", () => {
        const peerStacks = [{ stack: "organization/spire-istio-mesh/team-b", trustDomains: ["bar.com."] }];
        const problems = problemsOf({ ...kind(), domains: domainsOf(kind()).slice(0, 1), peerStacks });
        expect(problems).toEqual([expect.stringMatching(/^peerStacks\[0\]\.trustDomains\[0\] = "bar\.com\.": has an empty label/)]);
    });

    it("unknown platform", () => {
        expect(problemsOf({ ...kind(), platform: "eks" })).toEqual(['platform = "eks": must be one of "gke", "kind", "existing"']);
    });

    it("unknown exposure", () => {
        expect(problemsOf({ ...kind(), exposure: "Ingress" })).toEqual([
            'exposure = "Ingress": must be one of "LoadBalancer", "NodePort"',
        ]);
    });

    it("NodePort exposure on GKE", () => {
        expect(problemsOf({ ...gke(), exposure: "NodePort" })[0]).toMatch(/^exposure = "NodePort": must be "LoadBalancer" on platform gke/);
    });

    it("GKE settings missing on gke", () => {
        const domains = domainsOf(gke());
        delete domains[1].gke;
        expect(problemsOf({ ...gke(), domains })).toEqual([
            "domains[1].gke = undefined: is required on platform gke: an object with project and location",
        ]);
    });

    it("GKE project and location missing or malformed", () => {
        const domains = domainsOf(gke());
        domains[0].gke = { location: "moon" };
        expect(problemsOf({ ...gke(), domains })).toEqual([
            "domains[0].gke.project = undefined: is required",
            'domains[0].gke.location = "moon": must be a GCP region or zone such as europe-west1 or europe-west1-b',
        ]);
    });

    it("node count out of range", () => {
        const domains = domainsOf(gke());
        domains[0].gke = { ...(domains[0].gke as object), nodeCount: 0 };
        expect(problemsOf({ ...gke(), domains })).toEqual(["domains[0].gke.nodeCount = 0: must be a whole number from 1 to 100"]);
    });

    it("two domains on one existing kind cluster", () => {
        const domains = domainsOf(kind());
        domains[0].kind = { context: "kind-shared" };
        domains[1].kind = { context: "kind-shared" };
        expect(problemsOf({ ...kind(), domains })).toEqual([
            'domains[1].kind.context = "kind-shared": must reach a cluster of its own; domains[0].kind.context already names it (one trust domain per cluster)',
        ]);
    });

    it("a kind context that kind did not write", () => {
        const domains = domainsOf(kind());
        domains[0].kind = { context: "gke_project_zone_cluster" };
        expect(problemsOf({ ...kind(), domains })[0]).toMatch(/^domains\[0\]\.kind\.context = "gke_project_zone_cluster": must be a kubeconfig context that kind wrote/);
    });

    it("an unknown domain setting (a typo would otherwise be ignored)", () => {
        const domains = domainsOf(kind());
        domains[0].trustdomain = "foo.com";
        expect(problemsOf({ ...kind(), domains })[0]).toMatch(/^domains\[0\]\.trustdomain = "foo.com": is not a domain setting/);
    });

    it.each([
        ["istiodCertDuration", "60d"],
        ["istiodCertDuration", "1440"],
        ["istiodCertRenewBefore", "-1h"],
        ["rootCaValidity", "forever"],
    ])("malformed duration %s = %j", (key, value) => {
        expect(problemsOf({ ...kind(), [key]: value })).toEqual([
            `${key} = "${value}": must be a positive duration such as "1440h", "90m" or "2h30m"`,
        ]);
    });

    it("root validity that is not whole hours (tls takes hours)", () => {
        expect(problemsOf({ ...kind(), rootCaValidity: "90m" })[0]).toMatch(/must be a whole number of hours/);
    });

    it("renewBefore not shorter than the duration", () => {
        expect(problemsOf({ ...kind(), istiodCertDuration: "360h", istiodCertRenewBefore: "360h" })).toEqual([
            'istiodCertRenewBefore = "360h": must be shorter than istiodCertDuration (360h)',
        ]);
    });

    it("a cacerts lifetime longer than the intermediate's renewal window (it would outlive its signer)", () => {
        expect(problemsOf({ ...kind(), istiodCertDuration: "2881h" })).toEqual([
            'istiodCertDuration = "2881h": must be at most 2880h: the intermediate that signs cacerts is replaced that long before it expires, and a cacerts must not outlive it',
        ]);
        expect(parseMeshConfig({ ...kind(), istiodCertDuration: "2880h" }).certificates.istiodCertDuration).toBe("2880h");
    });

    it.each([
        ["istioVersion", "latest"],
        ["istioVersion", "^1.30.0"],
        ["spireChartVersion", "0.30"],
        ["spireCrdsChartVersion", "v0.6.0"],
    ])("malformed version %s = %j", (key, value) => {
        expect(problemsOf({ ...kind(), [key]: value })).toEqual([
            `${key} = "${value}": must be an exact chart version such as 1.2.3 (no ranges, no 'latest')`,
        ]);
    });

    it("cert-manager version without its v", () => {
        expect(problemsOf({ ...kind(), certManagerVersion: "1.21.1" })[0]).toMatch(/with its leading v/);
    });

    it("a kind node image without a tag", () => {
        expect(problemsOf({ ...kind(), kindNodeImage: "kindest/node" })[0]).toMatch(/^kindNodeImage = "kindest\/node": must be an image reference/);
    });

    it("node ports outside the range or shared", () => {
        expect(problemsOf({ ...kind(), bundleEndpointNodePort: 8443 })).toEqual([
            "bundleEndpointNodePort = 8443: must be a whole number from 30000 to 32767",
        ]);
        expect(problemsOf({ ...kind(), eastWestNodePort: 30843 })).toEqual([
            "eastWestNodePort = 30843: must differ from bundleEndpointNodePort: one node port serves one Service port",
        ]);
    });

    it("a malformed source range, for clients or for peers", () => {
        expect(problemsOf({ ...gke(), loadBalancerSourceRanges: ["10.0.0.0/8", "everyone"] })).toEqual([
            'loadBalancerSourceRanges[1] = "everyone": must be a CIDR such as 203.0.113.0/24',
        ]);
        expect(problemsOf({ ...gke(), peerSourceRanges: ["10.0.0.0/8", "10.0.0.0"] })).toEqual([
            'peerSourceRanges[1] = "10.0.0.0": must be a CIDR such as 203.0.113.0/24',
        ]);
        expect(problemsOf({ ...gke(), peerSourceRanges: "10.0.0.0/8" })).toEqual([
            'peerSourceRanges = "10.0.0.0/8": must be structured YAML (a list or an object), not a plain string',
        ]);
        expect(parseMeshConfig({ ...gke(), peerSourceRanges: ["198.51.100.0/24"] }).peerSourceRanges).toEqual(["198.51.100.0/24"]);
    });

    it.each(["loadBalancerSourceRanges", "peerSourceRanges"])("%s with NodePort exposure, where no Service could enforce them", (key) => {
        expect(problemsOf({ ...kind(), [key]: ["198.51.100.0/24"] })).toEqual([
            `${key} = ["198.51.100.0/24"]: must be empty with exposure NodePort: only a LoadBalancer Service takes source ranges, so node ports would stay open to every address; restrict them in the nodes' firewall, or use exposure LoadBalancer`,
        ]);
        // The same ranges are taken where a LoadBalancer enforces them.
        expect(parseMeshConfig({ ...kind(), exposure: "LoadBalancer", [key]: ["198.51.100.0/24"] })[key as "peerSourceRanges"]).toEqual(["198.51.100.0/24"]);
    });

    it("GKE authorized networks that are not CIDRs, or on a platform the program does not create GKE clusters on", () => {
        expect(problemsOf({ ...gke(), gkeMasterAuthorizedNetworks: ["203.0.113.7"] })).toEqual([
            'gkeMasterAuthorizedNetworks[0] = "203.0.113.7": must be a CIDR such as 203.0.113.0/24',
        ]);
        expect(problemsOf({ ...kind(), gkeMasterAuthorizedNetworks: ["203.0.113.0/24"] })).toEqual([
            'gkeMasterAuthorizedNetworks = ["203.0.113.0/24"]: must be empty on platform kind: it restricts GKE clusters the program creates; restrict the API server of other clusters where they are run',
        ]);
        expect(parseMeshConfig(gke()).gke.masterAuthorizedNetworks).toEqual([]);
        expect(parseMeshConfig({ ...gke(), gkeMasterAuthorizedNetworks: '["203.0.113.0/24"]' }).gke.masterAuthorizedNetworks).toEqual(["203.0.113.0/24"]);
    });

    it("exportAdminKubeconfigs that is neither true, false nor empty", () => {
        expect(problemsOf({ ...kind(), exportAdminKubeconfigs: "maybe" })).toEqual(['exportAdminKubeconfigs = "maybe": must be true or false']);
        expect(parseMeshConfig({ ...kind(), exportAdminKubeconfigs: "" }).exportAdminKubeconfigs).toBe(true);
    });

    it("a supplied root CA whose key is not a secret config key", async () => {
        const root = await createTestRootCa("foo.com root");
        const domains = domainsOf(kind());
        domains[0].rootCa = { certificatePem: root.certificatePem, privateKeyConfigKey: "fooRootKey" };
        expect(problemsOf({ ...kind(), domains })[0]).toMatch(
            /^domains\[0\]\.rootCa\.privateKeyConfigKey = "fooRootKey": must name a secret config key/,
        );
        expect(parseMeshConfig({ ...kind(), domains }, { hasSecretKey: (key) => key === "fooRootKey" }).domains[0].rootCa).toEqual({
            certificatePem: root.certificatePem,
            privateKeyConfigKey: "fooRootKey",
        });
    });

    it("a supplied root that is not a certificate", () => {
        const domains = domainsOf(kind());
        domains[0].rootCa = { certificatePem: "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----", privateKeyConfigKey: "k" };
        expect(problemsOf({ ...kind(), domains }, { hasSecretKey: () => true })[0]).toMatch(/must be one PEM-encoded X\.509 certificate/);
    });

    it("reports every problem at once", () => {
        const problems = problemsOf({ ...kind(), platform: "eks", meshId: "Mesh!", istiodCertDuration: "soon" });
        expect(problems).toHaveLength(3);
    });

    it("fails before any resource is registered", async () => {
        const domains = domainsOf(kind());
        domains[1].trustDomain = "foo.com";
        const attempt = (projectConfig?: Record<string, unknown>) => {
            let failure: unknown;
            const program = () => {
                try {
                    return deployMesh(loadMeshConfig());
                } catch (error) {
                    failure = error;
                    return undefined;
                }
            };
            return runProgram(program, { stack: "cluster-kind", projectConfig }).then((run) => ({ run, failure }));
        };
        const rejected = await attempt({ ...kind(), domains });
        expect(String(rejected.failure)).toMatch(/domains\[1\]\.trustDomain = "foo.com": must be unique/);
        expect(rejected.run.resources).toEqual([]);
        // The same harness does see resources when config is valid.
        const accepted = await attempt();
        expect(accepted.failure).toBeUndefined();
        expect(accepted.run.resources.length).toBeGreaterThan(0);
    });
});

describe("a supplied root whose key belongs to another certificate", () => {
    it("is refused before any resource is declared, naming the secret config key and never its value", async () => {
        const root = await createTestRootCa("foo.com supplied root");
        const other = await createTestRootCa("unrelated");
        const domains = domainsOf(kind());
        domains[0].rootCa = { certificatePem: root.certificatePem, privateKeyConfigKey: "cluster1RootKey" };
        let failure: unknown;
        const run = await runProgram(
            () => {
                try {
                    return deployMesh(loadMeshConfig());
                } catch (error) {
                    failure = error;
                    return undefined;
                }
            },
            { stack: "cluster-kind", projectConfig: { ...kind(), domains }, secretConfig: { cluster1RootKey: other.privateKeyPem } },
        );
        expect(failure).toBeInstanceOf(ConfigError);
        expect((failure as ConfigError).problems).toEqual([
            {
                key: "domains[0].rootCa.privateKeyConfigKey",
                value: "cluster1RootKey",
                allowed: "must name a secret config key holding the PEM private key of rootCa.certificatePem, but the key it holds belongs to another certificate",
            },
        ]);
        expect(String(failure)).not.toContain(other.privateKeyPem.split("\n")[1]);
        expect(run.resources).toEqual([]);
    });

    it("and a secret that is no private key at all, likewise", async () => {
        const root = await createTestRootCa("foo.com supplied root");
        const domains = domainsOf(kind());
        domains[0].rootCa = { certificatePem: root.certificatePem, privateKeyConfigKey: "cluster1RootKey" };
        const problems = problemsOf({ ...kind(), domains }, { hasSecretKey: () => true, readSecretKey: () => "not a key" });
        expect(problems).toEqual([
            'domains[0].rootCa.privateKeyConfigKey = "cluster1RootKey": must name a secret config key holding the PEM private key of rootCa.certificatePem, but the key it holds is not a PEM private key',
        ]);
        expect(parseMeshConfig({ ...kind(), domains }, { hasSecretKey: () => true, readSecretKey: () => root.privateKeyPem }).domains[0].rootCa?.privateKeyConfigKey).toBe(
            "cluster1RootKey",
        );
    });
});

describe("kind node images pinned by digest", () => {
    const digest = "452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f";

    it.each([
        `kindest/node:v1.35.0@sha256:${digest}`,
        `kindest/node@sha256:${digest}`,
        "kindest/node:v1.35.0",
        `registry.example.com:5000/mirror/kindest/node:v1.35.0@sha256:${digest}`,
    ])("accepts %s as kindNodeImage and as a domain's nodeImage", (image) => {
        expect(parseMeshConfig({ ...kind(), kindNodeImage: image }).versions.kindNodeImage).toBe(image);
        const domains = domainsOf(kind());
        domains[1].kind = { nodeImage: image };
        expect(parseMeshConfig({ ...kind(), domains }).domains[1].kind?.nodeImage).toBe(image);
    });

    it.each([
        ["a short digest", `kindest/node:v1.35.0@sha256:${digest.slice(1)}`],
        ["a long digest", `kindest/node:v1.35.0@sha256:${digest}0`],
        ["an uppercase digest", `kindest/node:v1.35.0@sha256:${digest.toUpperCase()}`],
        ["another algorithm", `kindest/node:v1.35.0@md5:${digest.slice(0, 32)}`],
        ["an empty tag before the digest", `kindest/node:@sha256:${digest}`],
        ["trailing text", `kindest/node:v1.35.0@sha256:${digest} latest`],
        ["two digests", `kindest/node:v1.35.0@sha256:${digest}@sha256:${digest}`],
        ["no tag or digest", "kindest/node"],
    ])("rejects %s", (_, image) => {
        expect(problemsOf({ ...kind(), kindNodeImage: image })).toEqual([
            expect.stringMatching(/^kindNodeImage = .*: must be an image reference .*tag, sha256 digest or both/),
        ]);
        const domains = domainsOf(kind());
        domains[0].kind = { nodeImage: image };
        expect(problemsOf({ ...kind(), domains })).toEqual([
            expect.stringMatching(/^domains\[0\]\.kind\.nodeImage = .*: must be an image reference .*tag, sha256 digest or both/),
        ]);
    });

    it("pins the default by tag and digest, so the default itself passes the check", () => {
        expect(defaultVersions.kindNodeImage).toMatch(/^kindest\/node:v\d+\.\d+\.\d+@sha256:[a-f0-9]{64}$/);
        expect(parseMeshConfig(kind()).versions.kindNodeImage).toBe(defaultVersions.kindNodeImage);
    });
});

describe("GKE node disks", () => {
    it("default to a modest balanced persistent disk", () => {
        for (const domain of parseMeshConfig(gke()).domains) {
            expect(domain.gke).toMatchObject({ diskSizeGb: 50, diskType: "pd-balanced" });
        }
    });

    it("are configurable per domain", () => {
        const domains = domainsOf(gke());
        domains[1].gke = { ...(domains[1].gke as Domain), diskSizeGb: "100", diskType: "pd-standard" };
        const mesh = parseMeshConfig({ ...gke(), domains });
        expect(mesh.domains[0].gke).toMatchObject({ diskSizeGb: 50, diskType: "pd-balanced" });
        expect(mesh.domains[1].gke).toMatchObject({ diskSizeGb: 100, diskType: "pd-standard" });
    });

    it.each([
        ["diskSizeGb", 5, "must be a whole number from 10 to 65536"],
        ["diskSizeGb", 20.5, "must be a whole number from 10 to 65536"],
        ["diskType", "ssd", 'must be one of "pd-balanced", "pd-standard", "pd-ssd", "hyperdisk-balanced"'],
    ])("reject %s = %j", (field, value, allowed) => {
        const domains = domainsOf(gke());
        domains[0].gke = { ...(domains[0].gke as Domain), [field]: value };
        expect(problemsOf({ ...gke(), domains })).toEqual([`domains[0].gke.${field} = ${JSON.stringify(value)}: ${allowed}`]);
    });
});

describe("secret config keys", () => {
    // The Automation API's inline programs get the secret keys in the run request, not in
    // PULUMI_CONFIG_SECRET_KEYS; the real engine showed a supplied root refused there.
    it("are recognised from the runtime's config store when the environment variable is absent", async () => {
        const root = await createTestRootCa("foo.com supplied root");
        const domains = domainsOf(kind());
        domains[0].rootCa = { certificatePem: root.certificatePem, privateKeyConfigKey: "fooRootKey" };
        const saved = process.env.PULUMI_CONFIG_SECRET_KEYS;
        const config = Object.fromEntries(
            Object.entries({ ...kind(), domains, fooRootKey: root.privateKeyPem }).map(([key, value]) => [
                `spire-istio-mesh:${key}`,
                typeof value === "string" ? value : JSON.stringify(value),
            ]),
        );
        try {
            delete process.env.PULUMI_CONFIG_SECRET_KEYS;
            pulumi.runtime.setAllConfig(config, ["spire-istio-mesh:fooRootKey"]);
            delete process.env.PULUMI_CONFIG_SECRET_KEYS;
            expect(loadMeshConfig().domains[0].rootCa?.privateKeyConfigKey).toBe("fooRootKey");
            pulumi.runtime.setAllConfig(config, []);
            expect(() => loadMeshConfig()).toThrow(/privateKeyConfigKey = "fooRootKey": must name a secret config key/);
        } finally {
            if (saved === undefined) delete process.env.PULUMI_CONFIG_SECRET_KEYS;
            else process.env.PULUMI_CONFIG_SECRET_KEYS = saved;
        }
    });
});
