import { describe, expect, it } from "vitest";
import { planStack } from "../../scripts/plan/plan";
import { projectConfigOf, stackNames } from "../../tests/harness/stacks";
import { evaluatePolicies, fromDeclared } from "../evaluate";
import { UNKNOWN } from "../lib/values";

const credentialPolicies = new Set(["federation-credentials-reader-only", "istio-remote-secret-reader-only", "admin-kubeconfigs-not-exported", "peer-reader-rbac"]);
const remoteSecretsOf = (plan: Awaited<ReturnType<typeof planStack>>) =>
    plan.resources.filter((r) => r.type === "kubernetes:core/v1:Secret" && r.inputs.metadata?.labels?.["istio/multiCluster"] === "true");

/** A peer stack not deployed yet: naming it makes the stack one that peers read. */
const withPeer = (stack: (typeof stackNames)[number], extra: Record<string, unknown> = {}) => ({
    ...projectConfigOf(stack),
    peerStacks: [{ stack: "organization/spire-istio-mesh/team-z", trustDomains: ["baz.com"] }],
    ...extra,
});

/** The offline plan runs index.ts and judges its stack outputs as the engine shows them to stack policies. */
// Each test runs the whole program in this process: how long that takes depends on the machine's load, so no time limit.
describe.each(stackNames)("the %s program's peer credentials under the pack", { timeout: 0 }, (stack) => {
    it("export only reader kubeconfigs, as secrets, and hand only those to every istiod", async () => {
        // With peer stacks, exportAdminKubeconfigs defaults to false.
        const plan = await planStack({ stack, projectConfig: withPeer(stack) });
        expect(plan.rootStack.props.kubeconfigs).toBeUndefined();
        expect(plan.rootStack.type).toBe("pulumi:pulumi:Stack");
        expect(plan.rootStack.urn).toBe(`urn:pulumi:${stack}::spire-istio-mesh::pulumi:pulumi:Stack::spire-istio-mesh-${stack}`);
        // Two clusters, each holding the other's, and both exported: the checks are not over empty sets.
        expect(remoteSecretsOf(plan)).toHaveLength(2);
        expect(Object.keys(plan.rootStack.props.federationCredentials as object).sort()).toEqual(["cluster-1", "cluster-2"]);
        // Exported: only the credential issued to the peer stack's domain (not existing yet), never those of the stack's own domains.
        expect(Object.keys((plan.rootStack.props.federationCredentials as Record<string, object>)["cluster-1"])).toEqual(["baz.com"]);
        expect(Object.keys((plan.rootStack.props.federationCredentials as Record<string, object>)["cluster-2"])).toEqual(["baz.com"]);
        expect(plan.rootStack.isSecretPath?.(["federationCredentials", "cluster-1", "baz.com"])).toBe(true);
        // The peer readers' roles are judged, not only the credentials' form: both clusters bind one per reader.
        expect(plan.resources.filter((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")).toHaveLength(4);
        expect(plan.violations.filter((v) => credentialPolicies.has(v.policy) || v.enforcementLevel === "mandatory")).toEqual([]);
    });

    it("trip none of the credential policies as committed (no peer stacks: no peer credential beside the admin kubeconfigs)", async () => {
        const plan = await planStack({ stack });
        expect(plan.rootStack.props.kubeconfigs).toBeDefined();
        expect(plan.rootStack.props.federationCredentials).toBeUndefined();
        expect(plan.violations.filter((v) => credentialPolicies.has(v.policy) || v.enforcementLevel === "mandatory")).toEqual([]);
    });

    it("refuse the program's own admin kubeconfig as a peer credential, in the outputs or in a remote secret", async () => {
        // An owner who exports the admin kubeconfigs on purpose beside the peer credentials is warned.
        const plan = await planStack({ stack, projectConfig: withPeer(stack, { exportAdminKubeconfigs: true }) });
        expect(plan.violations.filter((v) => credentialPolicies.has(v.policy))).toEqual([
            expect.objectContaining({ policy: "admin-kubeconfigs-not-exported", enforcementLevel: "advisory", urn: plan.rootStack.urn, message: expect.stringContaining('"kubeconfigs"') }),
        ]);

        const root = plan.rootStack;
        const admin = (root.props.kubeconfigs as Record<string, string>)["cluster-2"];
        const withAdmin = { ...root, props: { ...root.props, federationCredentials: { ...(root.props.federationCredentials as object), "cluster-2": { "foo.com": admin } } } };
        const remoteSecret = remoteSecretsOf(plan).find((r) => r.inputs.stringData?.["cluster-2"] !== undefined)!;
        const handedAdmin = fromDeclared({ ...remoteSecret, inputs: { ...remoteSecret.inputs, stringData: { "cluster-2": admin } } });
        const violations = evaluatePolicies([handedAdmin, withAdmin]);
        // GKE's admin kubeconfig runs an exec plugin, kind's carries a client certificate; neither has a token.
        const adminCredential = stack === "cluster-gke" ? '"exec"' : '"client-certificate-data", "client-key-data"';
        expect(violations.filter((v) => v.policy === "federation-credentials-reader-only")).toEqual([
            expect.objectContaining({ enforcementLevel: "mandatory", urn: root.urn, message: expect.stringMatching(new RegExp(`^Stack output "federationCredentials" entry "cluster-2"."foo.com" user \\S+ has ${adminCredential};`)) }),
        ]);
        expect(violations.filter((v) => v.policy === "istio-remote-secret-reader-only")).toEqual([
            expect.objectContaining({ enforcementLevel: "mandatory", urn: remoteSecret.urn, message: expect.stringContaining(`has ${adminCredential};`) }),
        ]);
    });

    it("do not fail a preview, where the reader tokens are not known yet", async () => {
        const plan = await planStack({ stack, projectConfig: withPeer(stack), preview: true });
        expect(plan.rootStack.props.federationCredentials).toBe(UNKNOWN);
        expect(plan.mandatory).toEqual([]);
    });
});
