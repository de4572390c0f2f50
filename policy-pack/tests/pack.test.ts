import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import { parse } from "yaml";
import { describe, expect, it, vi } from "vitest";
import { configSchemaOf, effectiveConfig, PolicyDefinition } from "../lib/definition";
import { evaluatePolicies, fromDeclared } from "../evaluate";
import { packName, policyModules } from "../pack";
import { defaultProviderUrn, domains, kubernetesObject, meshStack, meshWidePeerAuthentication, mutate, replaced, spireRelease, without } from "./fixtures";

const captured = vi.hoisted(() => ({ packs: [] as { name: string; args: { policies: unknown[]; enforcementLevel?: string } }[] }));

vi.mock("@pulumi/policy", async (importOriginal) => {
    const original = await importOriginal<typeof import("@pulumi/policy")>();
    return {
        ...original,
        // Constructing the real PolicyPack starts the analyzer's gRPC server; record the arguments instead.
        PolicyPack: class {
            constructor(name: string, args: { policies: unknown[]; enforcementLevel?: string }) {
                captured.packs.push({ name, args });
            }
        },
    };
});

const packRoot = join(__dirname, "..");
const definitions: PolicyDefinition<unknown>[] = policyModules.map((module) => module.definition);

describe("the policy pack", () => {
    it("is its own package whose PulumiPolicy.yaml runs on Node.js", () => {
        expect(parse(readFileSync(join(packRoot, "PulumiPolicy.yaml"), "utf8"))).toMatchObject({ runtime: "nodejs" });
        const pkg = JSON.parse(readFileSync(join(packRoot, "package.json"), "utf8")) as { name: string; version: string; dependencies: Record<string, string> };
        expect(pkg.name).toBe(packName);
        expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
        // yaml: kubeconfigs handed to peers are parsed to see which credentials they carry.
        expect(pkg.dependencies).toEqual({ "@pulumi/policy": "1.21.0", "@pulumi/pulumi": "3.248.0", yaml: "2.9.1" });
    });

    it("lists every module under policies/ exactly once", async () => {
        const files = readdirSync(join(packRoot, "policies")).filter((file) => file.endsWith(".ts"));
        expect(files.length).toBe(policyModules.length);
        for (const file of files) {
            const module = (await import(`../policies/${file.replace(/\.ts$/, "")}`)) as { definition?: unknown; policy?: unknown };
            expect(module.definition, file).toBeDefined();
            expect(policyModules.filter((listed) => listed.definition === module.definition), file).toHaveLength(1);
        }
    });

    it("index.ts builds the pack from exactly those policies", async () => {
        await import("../index");
        expect(captured.packs).toHaveLength(1);
        expect(captured.packs[0].name).toBe(packName);
        expect(captured.packs[0].args.policies).toEqual(policyModules.map((module) => module.policy));
    });

    it("gives every policy a unique name, a description and an enforcement level", () => {
        const names = definitions.map((definition) => definition.name);
        expect(new Set(names).size).toBe(names.length);
        for (const { definition, policy } of policyModules) {
            expect(definition.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
            expect(definition.description.length, definition.name).toBeGreaterThan(40);
            expect(["advisory", "mandatory", "remediate"]).toContain(definition.enforcementLevel);
            expect(policy).toMatchObject({ name: definition.name, description: definition.description, enforcementLevel: definition.enforcementLevel });
            expect("validateResource" in policy || "validateStack" in policy, definition.name).toBe(true);
            expect("validateStack" in policy).toBe(definition.scope === "stack");
        }
    });

    it("keeps the issue's advisories advisory and everything else enforced", () => {
        const advisory = definitions.filter((definition) => definition.enforcementLevel === "advisory").map((definition) => definition.name);
        expect(advisory.sort()).toEqual(["admin-kubeconfigs-not-exported", "gke-deletion-protection", "gke-private-nodes", "load-balancer-source-ranges"]);
    });

    it("publishes a config schema whose defaults validate, for every policy with settings", () => {
        const ajv = new Ajv({ strict: false });
        for (const definition of definitions) {
            const schema = configSchemaOf(definition);
            if (Object.keys(definition.config as object).length === 0) {
                expect(schema, definition.name).toBeUndefined();
                continue;
            }
            expect(schema, definition.name).toBeDefined();
            const validate = ajv.compile({ type: "object", properties: schema?.properties ?? {} });
            expect(validate(effectiveConfig(definition)), `${definition.name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
        }
    });
});

describe("evaluatePolicies", () => {
    it("finds nothing in a compliant mesh", () => {
        expect(evaluatePolicies(meshStack())).toEqual([]);
    });

    it("reports resource and stack violations with policy, level, URN and message", () => {
        const unpinned = mutate(spireRelease(domains[0]), ["version"], "^0.30.0");
        const stack = without(replaced(meshStack(), unpinned), meshWidePeerAuthentication(domains[1]).urn);
        const violations = evaluatePolicies(stack);
        expect(violations).toEqual([
            { policy: "helm-charts-pinned", enforcementLevel: "mandatory", urn: unpinned.urn, message: expect.stringContaining('version "^0.30.0" is not one exact release') },
            { policy: "istio-strict-mtls", enforcementLevel: "mandatory", urn: expect.stringContaining("cluster-2"), message: expect.stringContaining("no mesh-wide STRICT PeerAuthentication") },
        ]);
    });

    it("reports duplicate trust domains (several policies see them)", () => {
        const duplicate = mutate(spireRelease(domains[1]), ["values", "global", "spire", "trustDomain"], domains[0].trustDomain);
        const policies = new Set(evaluatePolicies(replaced(meshStack(), duplicate)).map((violation) => violation.policy));
        expect(policies).toContain("spiffe-trust-domains-unique");
    });

    it("takes enforcement levels and settings from policy config, as `pulumi preview --policy-pack` does", () => {
        const stack = without(meshStack(), meshWidePeerAuthentication(domains[1]).urn);
        expect(evaluatePolicies(stack, { "istio-strict-mtls": "advisory" })).toEqual([expect.objectContaining({ policy: "istio-strict-mtls", enforcementLevel: "advisory" })]);
        expect(evaluatePolicies(stack, { "istio-strict-mtls": { enforcementLevel: "disabled" } })).toEqual([]);
        expect(evaluatePolicies(meshStack(), { "istio-strict-mtls": { rootNamespace: "default" } })).toHaveLength(2);
    });

    it("reports a remediate-level policy as mandatory (nothing is remediated offline)", () => {
        const declared = {
            type: "pulumi:providers:kubernetes",
            name: "cluster-1",
            urn: "urn:pulumi:test::spire-istio-mesh::pulumi:providers:kubernetes::cluster-1",
            inputs: { kubeconfig: "apiVersion: v1\nkind: Config\nclusters: []\n" },
            provider: "",
            secretInputPaths: [],
        };
        expect(evaluatePolicies([fromDeclared(declared)])).toEqual([
            expect.objectContaining({ policy: "sensitive-values-secret", enforcementLevel: "mandatory", urn: declared.urn }),
        ]);
        expect(evaluatePolicies([fromDeclared({ ...declared, secretInputPaths: ["kubeconfig"] })])).toEqual([]);
    });

    it("catches a Kubernetes object on the default provider", () => {
        const stray = { ...kubernetesObject("v1", "Namespace", "stray", { metadata: { name: "stray" } }), provider: defaultProviderUrn };
        expect(evaluatePolicies([...meshStack(), stray]).map((violation) => violation.policy)).toEqual(["kubernetes-explicit-provider"]);
    });
});
