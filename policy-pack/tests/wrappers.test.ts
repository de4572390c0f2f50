import {
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
    unknownCheckingProxy,
} from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { PlainResource } from "../lib/resource";
import { policy as helmChartsPolicy } from "../policies/helmChartsPinned";
import { policy as strictMtlsPolicy } from "../policies/istioStrictMtls";
import { policy as sensitiveValuesPolicy } from "../policies/sensitiveValuesSecret";
import { policy as federationPolicy } from "../policies/spireFederation";
import { meshStack, meshWidePeerAuthentication, mutate, providerUrn, resource, spireRelease, domains, without } from "./fixtures";

// The policy SDK's own (de)serialization, as its server runs it for Analyze/Remediate requests.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sdk = require("@pulumi/policy/deserialize") as {
    deserializeProperties(struct: { toJavaScript(): unknown }, proxySecrets: boolean): Record<string, unknown>;
    serializeProperties(value: unknown): Promise<Record<string, unknown>>;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc = require("@pulumi/pulumi/runtime/rpc") as { specialSigKey: string; specialSecretSig: string; unknownValue: string };

const secret = (value: unknown) => ({ [rpc.specialSigKey]: rpc.specialSecretSig, value });

/** What the policy SDK hands validateResource: wire properties deserialized, behind its unknown-checking proxy. */
function validationArgs(record: PlainResource, wire: Record<string, unknown>, config: Record<string, unknown> = {}, proxySecrets = false): ResourceValidationArgs {
    const props = unknownCheckingProxy(sdk.deserializeProperties({ toJavaScript: () => wire }, proxySecrets)) as Record<string, unknown>;
    return {
        type: record.type,
        name: record.name,
        urn: record.urn,
        props,
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
        provider: record.provider ? { type: "pulumi:providers:kubernetes", urn: record.provider, name: record.provider.split("::").pop() ?? "", props: {} } : undefined,
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new Error(reason);
        },
    };
}

function stackArgs(records: PlainResource[], config: Record<string, unknown> = {}): StackValidationArgs {
    const resources: PolicyResource[] = records.map((record) => {
        const args = validationArgs(record, record.props);
        return { ...args, dependencies: [], propertyDependencies: {} };
    });
    return {
        resources,
        stackTags: new Map(),
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new Error(reason);
        },
    };
}

async function runResourcePolicy(policy: ResourceValidationPolicy, args: ResourceValidationArgs): Promise<string[]> {
    const messages: string[] = [];
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
    for (const validate of validations) await validate?.(args, (message) => messages.push(message));
    return messages;
}

async function runStackPolicy(policy: StackValidationPolicy, args: StackValidationArgs): Promise<{ message: string; urn?: string }[]> {
    const found: { message: string; urn?: string }[] = [];
    await policy.validateStack(args, (message, urn) => found.push({ message, urn }));
    return found;
}

describe("the @pulumi/policy adapters", () => {
    const release = spireRelease(domains[0]);

    it("run a resource policy on the SDK's proxied properties, with policy config", async () => {
        expect(await runResourcePolicy(helmChartsPolicy as ResourceValidationPolicy, validationArgs(release, release.props))).toEqual([]);
        const onlyIstio = { allowedRepositories: ["https://istio-release.storage.googleapis.com/charts"] };
        expect(await runResourcePolicy(helmChartsPolicy as ResourceValidationPolicy, validationArgs(release, release.props, onlyIstio))).toEqual([
            expect.stringContaining("which is not an allowed chart repository"),
        ]);
    });

    it("do not fail a preview on values that are still unknown", async () => {
        const unknownVersion = mutate(release, ["version"], rpc.unknownValue);
        const args = validationArgs(unknownVersion, unknownVersion.props);
        expect(() => (args.props as { version: unknown }).version).toThrow(/can't be known during preview/);
        expect(await runResourcePolicy(helmChartsPolicy as ResourceValidationPolicy, args)).toEqual([]);
    });

    it("run a stack policy over the SDK's resources, identifying clusters by provider URN and reporting the URN", async () => {
        const stack = meshStack();
        expect(await runStackPolicy(strictMtlsPolicy as StackValidationPolicy, stackArgs(stack))).toEqual([]);
        expect(await runStackPolicy(federationPolicy as StackValidationPolicy, stackArgs(stack))).toEqual([]);
        const missing = without(stack, meshWidePeerAuthentication(domains[1]).urn);
        expect(await runStackPolicy(strictMtlsPolicy as StackValidationPolicy, stackArgs(missing))).toEqual([
            { urn: providerUrn("cluster-2"), message: expect.stringContaining('cluster "cluster-2" has no mesh-wide STRICT PeerAuthentication') },
        ]);
        expect(await runStackPolicy(strictMtlsPolicy as StackValidationPolicy, stackArgs(missing, { rootNamespace: "default" }))).toHaveLength(2);
    });
});

describe("sensitive-values-secret under the policy SDK", () => {
    const kubeconfig = "apiVersion: v1\nkind: Config\nclusters: []\nusers: [{name: u, user: {token: abc}}]\n";
    const provider = resource("pulumi:providers:kubernetes", "cluster-1", { kubeconfig });

    it("cannot see secretness in validations (the SDK unwraps secrets there), so it reports nothing", async () => {
        const args = validationArgs(provider, { kubeconfig });
        expect(await runResourcePolicy(sensitiveValuesPolicy as ResourceValidationPolicy, args)).toEqual([]);
    });

    it("defaults to remediate: it marks a plain kubeconfig secret, as the SDK serializes the remediation", async () => {
        expect(sensitiveValuesPolicy.enforcementLevel).toBe("remediate");
        const remediate = (sensitiveValuesPolicy as ResourceValidationPolicy).remediateResource;
        const result = await remediate?.(validationArgs(provider, { kubeconfig, clusterIdentifier: "kind-cluster-1" }, {}, true));
        expect(await sdk.serializeProperties(result)).toEqual({ kubeconfig: secret(kubeconfig), clusterIdentifier: "kind-cluster-1" });
    });

    it("leaves a resource whose sensitive values are secret already unchanged", async () => {
        const remediate = (sensitiveValuesPolicy as ResourceValidationPolicy).remediateResource;
        expect(await remediate?.(validationArgs(provider, { kubeconfig: secret(kubeconfig) }, {}, true))).toBeUndefined();
        const nested = resource("kubernetes:core/v1:Secret", "s", {});
        const wire = { kind: "Secret", apiVersion: "v1", stringData: secret({ token: "t", "ca.crt": "c" }) };
        expect(await remediate?.(validationArgs(nested, wire, {}, true))).toBeUndefined();
    });

    it("wraps just the sensitive entry and keeps existing secrets secret", async () => {
        const remediate = (sensitiveValuesPolicy as ResourceValidationPolicy).remediateResource;
        const wire = { kind: "Secret", apiVersion: "v1", metadata: { name: "s" }, stringData: { token: "t", "ca.crt": "c" }, data: secret({ x: "y" }) };
        const result = await remediate?.(validationArgs(resource("kubernetes:core/v1:Secret", "s", {}), wire, {}, true));
        expect(await sdk.serializeProperties(result)).toEqual({
            kind: "Secret",
            apiVersion: "v1",
            metadata: { name: "s" },
            stringData: { token: secret("t"), "ca.crt": "c" },
            data: secret({ x: "y" }),
        });
    });
});
