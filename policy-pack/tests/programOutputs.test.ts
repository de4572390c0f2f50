import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { isKnown, isSecretOutput, resolvePlain, runProgram } from "../../tests/harness/program";
import { projectConfigOf, StackName, stackNames } from "../../tests/harness/stacks";
import { evaluatePolicies, fromDeclared, PlainResource } from "../evaluate";
import { UNKNOWN } from "../lib/values";
import { rootStackType } from "../policies/federationCredentialsReaderOnly";

type StackOutputs = Record<string, unknown>;

/** Runs index.ts as the CLI would; its result is what the engine registers as the root stack's outputs. */
function runIndex(stack: StackName, options: { projectConfig?: Record<string, unknown>; preview?: boolean } = {}) {
    return runProgram(async () => {
        vi.resetModules();
        const program = (await import("../../index")) as unknown as { default: () => Promise<StackOutputs> };
        return program.default();
    }, { stack, ...options });
}

/**
 * The root `pulumi:pulumi:Stack` resource as the engine hands it to stack policies after the
 * program registered its outputs (values unknown in a preview stay unknown), with the secretness
 * of each output that only the offline plan knows.
 */
async function rootStackOf(outputs: StackOutputs): Promise<PlainResource> {
    const props: Record<string, unknown> = {};
    const secret: string[] = [];
    for (const [name, value] of Object.entries(outputs)) {
        const output = pulumi.output(value);
        props[name] = (await isKnown(output)) ? await resolvePlain(output) : UNKNOWN;
        if (await isSecretOutput(output)) secret.push(name);
    }
    return fromDeclared({ type: rootStackType, name: "spire-istio-mesh-test", urn: `urn:pulumi:test::spire-istio-mesh::${rootStackType}::spire-istio-mesh-test`, inputs: props, secretInputPaths: secret });
}

const credentialPolicies = new Set(["federation-credentials-reader-only", "istio-remote-secret-reader-only", "admin-kubeconfigs-not-exported"]);

describe.each(stackNames)("the %s program's peer credentials under the pack", (stack) => {
    it("export only reader kubeconfigs, as secrets, and hand only those to every istiod", async () => {
        const run = await runIndex(stack, { projectConfig: { ...projectConfigOf(stack), exportAdminKubeconfigs: false } });
        const root = await rootStackOf(run.result);
        const remoteSecrets = run.resources.filter((r) => r.type === "kubernetes:core/v1:Secret" && r.inputs.metadata?.labels?.["istio/multiCluster"] === "true");
        // Two clusters, each holding the other's: the check below is not over an empty set.
        expect(remoteSecrets).toHaveLength(2);
        expect(Object.keys(root.props.federationCredentials as object).sort()).toEqual(["cluster-1", "cluster-2"]);
        const violations = evaluatePolicies([...run.resources.map(fromDeclared), root]);
        expect(violations.filter((v) => credentialPolicies.has(v.policy) || v.enforcementLevel === "mandatory")).toEqual([]);
    });

    it("refuse the program's own admin kubeconfig as a peer credential, in the outputs or in a remote secret", async () => {
        const run = await runIndex(stack);
        const root = await rootStackOf(run.result);
        const admin = (root.props.kubeconfigs as Record<string, string>)["cluster-2"];
        const withAdmin = { ...root, props: { ...root.props, federationCredentials: { ...(root.props.federationCredentials as object), "cluster-2": admin } } };
        const remoteSecret = run.resources.find((r) => r.type === "kubernetes:core/v1:Secret" && r.inputs.stringData?.["cluster-2"] !== undefined);
        expect(remoteSecret).toBeDefined();
        const handedAdmin = fromDeclared({ ...remoteSecret!, inputs: { ...remoteSecret!.inputs, stringData: { "cluster-2": admin } } });

        const violations = evaluatePolicies([handedAdmin, withAdmin]);
        // GKE's admin kubeconfig runs an exec plugin, kind's carries a client certificate; neither has a token.
        const adminCredential = stack === "cluster-gke" ? '"exec"' : '"client-certificate-data", "client-key-data"';
        expect(violations.filter((v) => v.policy === "federation-credentials-reader-only")).toEqual([
            expect.objectContaining({ enforcementLevel: "mandatory", urn: root.urn, message: expect.stringMatching(new RegExp(`^Stack output "federationCredentials" entry "cluster-2" user \\S+ has ${adminCredential};`)) }),
            expect.objectContaining({ enforcementLevel: "mandatory", urn: root.urn, message: expect.stringContaining('entry "cluster-2" user') }),
        ]);
        expect(violations.filter((v) => v.policy === "istio-remote-secret-reader-only").map((v) => v.urn)).toEqual([remoteSecret!.urn, remoteSecret!.urn]);
        // exportAdminKubeconfigs defaults to true: peers reading the credentials could read these too.
        expect(violations.filter((v) => v.policy === "admin-kubeconfigs-not-exported")).toEqual([
            expect.objectContaining({ enforcementLevel: "advisory", urn: root.urn, message: expect.stringContaining('"kubeconfigs"') }),
        ]);
    });

    it("do not fail a preview, where the reader tokens are not known yet", async () => {
        const run = await runIndex(stack, { projectConfig: { ...projectConfigOf(stack), exportAdminKubeconfigs: false }, preview: true });
        const root = await rootStackOf(run.result);
        expect(root.props.federationCredentials).toBe(UNKNOWN);
        const violations = evaluatePolicies([...run.resources.map(fromDeclared), root]);
        expect(violations.filter((v) => v.enforcementLevel === "mandatory")).toEqual([]);
    });
});
