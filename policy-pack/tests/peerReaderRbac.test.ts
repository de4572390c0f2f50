import { describe, expect, it } from "vitest";
import { peerReaderClusterRules, peerReaderMeshConfigRules } from "../../components/peerReaders";
import { peerReaderServiceAccountPrefix } from "../../lib/peerReader";
import { effectiveConfig } from "../lib/definition";
import { PlainResource } from "../lib/resource";
import { UNKNOWN } from "../lib/values";
import { definition, peerReaderRbacFindings, ruleProblems } from "../policies/peerReaderRbac";
import { kubernetesObject, mutate, providerUrn, REMOVE, resource } from "./fixtures";

const config = effectiveConfig(definition);
const read = ["get", "list", "watch"];

/** A peer's credential as the program declares it in one cluster: account, roles, bindings, and Istio's releases without the stock reader. */
function peerCredential(): PlainResource[] {
    const account = { kind: "ServiceAccount", name: "peer-reader-bar.com", namespace: "istio-system" };
    return [
        kubernetesObject("v1", "ServiceAccount", "peer-reader-bar.com", { metadata: { name: "peer-reader-bar.com", namespace: "istio-system" } }),
        kubernetesObject("rbac.authorization.k8s.io/v1", "ClusterRole", "peer-reader", {
            metadata: { name: "spire-istio-mesh-peer-reader" },
            rules: [
                { apiGroups: [""], resources: ["namespaces", "nodes", "pods", "services"], verbs: read },
                { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: read },
            ],
        }),
        kubernetesObject("rbac.authorization.k8s.io/v1", "Role", "peer-reader-mesh-config", {
            metadata: { name: "spire-istio-mesh-peer-reader", namespace: "istio-system" },
            rules: [{ apiGroups: [""], resources: ["configmaps"], resourceNames: ["istio"], verbs: read }],
        }),
        kubernetesObject("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "peer-reader-bar.com", {
            metadata: { name: "spire-istio-mesh-peer-reader-bar.com" },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "spire-istio-mesh-peer-reader" },
            subjects: [account],
        }),
        kubernetesObject("rbac.authorization.k8s.io/v1", "RoleBinding", "peer-reader-bar.com-mesh-config", {
            metadata: { name: "spire-istio-mesh-peer-reader-bar.com", namespace: "istio-system" },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "spire-istio-mesh-peer-reader" },
            subjects: [account],
        }),
        resource("kubernetes:helm.sh/v3:Release", "cluster-1-istiod", { chart: "istiod", name: "istiod", values: { global: { enableReaderRBAC: false } } }, { provider: providerUrn("cluster-1") }),
        resource("kubernetes:helm.sh/v3:Release", "cluster-1-istio-base", { chart: "base", name: "istio-base", values: { global: { enableReaderRBAC: false } } }, { provider: providerUrn("cluster-1") }),
    ];
}

const [, clusterRole, role, clusterBinding, roleBinding, istiod, base] = peerCredential();

/** The valid set with one resource replaced. */
function replaced(original: PlainResource, changed: PlainResource): PlainResource[] {
    return peerCredential().map((item) => (item.urn === original.urn ? changed : item));
}

describe("peer-reader-rbac", () => {
    it("is mandatory, recognises peer readers by the program's prefix, and passes the credential the program declares", () => {
        expect(definition.enforcementLevel).toBe("mandatory");
        expect(config).toEqual({ readerServiceAccountPrefix: peerReaderServiceAccountPrefix });
        expect(peerReaderRbacFindings(peerCredential(), config)).toEqual([]);
        // The program's own rules, as components/peerReaders.ts declares them.
        const programRoles = [
            mutate(clusterRole, ["rules"], peerReaderClusterRules.map((rule) => ({ ...rule }))),
            mutate(role, ["rules"], peerReaderMeshConfigRules.map((rule) => ({ ...rule }))),
        ];
        const programSet = peerCredential().map((item) => programRoles.find((changed) => changed.urn === item.urn) ?? item);
        expect(peerReaderRbacFindings(programSet, config)).toEqual([]);
    });

    it.each([
        ["Secrets among the resources", ["rules", 0, "resources"], ["namespaces", "nodes", "pods", "services", "secrets"], "grants secrets"],
        ["a write verb", ["rules", 0, "verbs"], ["get", "list", "watch", "create"], 'grants "create" on namespaces, nodes, pods, services'],
        ["delete on what it reads", ["rules", 1, "verbs"], ["get", "list", "watch", "delete"], 'grants "delete" on endpointslices'],
        ["a wildcard verb", ["rules", 1, "verbs"], ["*"], 'grants "*" in verbs'],
        ["a wildcard resource", ["rules", 1, "resources"], ["*"], 'grants "*" in resources'],
        ["a wildcard API group", ["rules", 1, "apiGroups"], ["*"], 'grants "*" in apiGroups'],
        ["a non-resource URL", ["rules", 1, "nonResourceURLs"], ["/metrics"], "grants non-resource URLs"],
    ])("flags the ClusterRole bound to a peer reader when it gets %s", (_, path, value, reason) => {
        const found = peerReaderRbacFindings(replaced(clusterRole, mutate(clusterRole, path as (string | number)[], value)), config);
        expect(found).toEqual([{ urn: clusterRole.urn, message: expect.stringContaining(reason) }]);
        expect(found[0].message).toContain('ClusterRole "spire-istio-mesh-peer-reader" in cluster "cluster-1", bound to peer reader "peer-reader-bar.com"');
    });

    it("flags Secrets granted through the namespaced Role too, by name or not", () => {
        const secrets = mutate(role, ["rules", 0], { apiGroups: [""], resources: ["secrets"], resourceNames: ["cacerts"], verbs: ["get"] });
        expect(peerReaderRbacFindings(replaced(role, secrets), config)).toEqual([{ urn: role.urn, message: expect.stringContaining("grants secrets") }]);
        const subresource = mutate(role, ["rules", 0, "resources"], ["secrets/status"]);
        expect(peerReaderRbacFindings(replaced(role, subresource), config)).toEqual([{ urn: role.urn, message: expect.stringContaining("grants secrets/status") }]);
    });

    it("does not count a resource of another API group that happens to be called secrets", () => {
        const other = mutate(clusterRole, ["rules", 1], { apiGroups: ["example.com"], resources: ["secrets"], verbs: read });
        expect(peerReaderRbacFindings(replaced(clusterRole, other), config)).toEqual([]);
    });

    it("flags a binding of a peer reader to a role the stack does not declare, such as cluster-admin", () => {
        const admin = mutate(clusterBinding, ["roleRef", "name"], "cluster-admin");
        expect(peerReaderRbacFindings(replaced(clusterBinding, admin), config)).toEqual([
            { urn: clusterBinding.urn, message: expect.stringContaining('binds peer reader "peer-reader-bar.com" to ClusterRole "cluster-admin", which this stack does not declare') },
        ]);
        // A Role of the same name in another namespace is not the one bound.
        const elsewhere = mutate(roleBinding, ["metadata", "namespace"], "default");
        expect(peerReaderRbacFindings(replaced(roleBinding, elsewhere), config)).toEqual([{ urn: roleBinding.urn, message: expect.stringContaining("does not declare") }]);
        // Nor is a ClusterRole of another cluster.
        const otherCluster = { ...clusterRole, urn: `${clusterRole.urn}-2`, provider: providerUrn("cluster-2") };
        expect(peerReaderRbacFindings([...replaced(clusterRole, otherCluster)], config)).toEqual([
            { urn: clusterBinding.urn, message: expect.stringContaining("does not declare") },
        ]);
    });

    it("flags a bound role that aggregates others", () => {
        const aggregated = mutate(clusterRole, ["aggregationRule"], { clusterRoleSelectors: [{ matchLabels: { "rbac.example.com/aggregate-to-reader": "true" } }] });
        expect(peerReaderRbacFindings(replaced(clusterRole, aggregated), config)).toEqual([{ urn: clusterRole.urn, message: expect.stringContaining("aggregates other roles") }]);
    });

    it.each([
        ["istiod", istiod, true],
        ["istiod", istiod, REMOVE],
        ["base", base, true],
        ["base", base, REMOVE],
    ])("flags the %s release when it keeps Istio's stock reader role (enableReaderRBAC %s)", (_, release, value) => {
        const found = peerReaderRbacFindings(replaced(release, mutate(release, ["values", "global", "enableReaderRBAC"], value)), config);
        expect(found).toEqual([{ urn: release.urn, message: expect.stringContaining("grants get/list/watch on every Secret") }]);
    });

    it("leaves alone what is not a peer reader's, and what a preview does not know", () => {
        // The same broad role bound to some other account is another policy's business.
        const secrets = mutate(clusterRole, ["rules", 0, "resources"], ["secrets"]);
        const otherSubject = mutate(clusterBinding, ["subjects", 0, "name"], "istiod");
        const set = replaced(clusterRole, secrets).map((item) => (item.urn === clusterBinding.urn ? otherSubject : item));
        expect(peerReaderRbacFindings(set, config).map((finding) => finding.urn)).toEqual([]);
        expect(peerReaderRbacFindings(replaced(clusterRole, mutate(clusterRole, ["rules"], UNKNOWN)), config)).toEqual([]);
        expect(peerReaderRbacFindings(replaced(clusterRole, mutate(clusterRole, ["rules", 0, "resources"], UNKNOWN)), config)).toEqual([]);
        expect(peerReaderRbacFindings(replaced(clusterBinding, mutate(clusterBinding, ["roleRef", "name"], UNKNOWN)), config)).toEqual([]);
        expect(peerReaderRbacFindings(replaced(istiod, mutate(istiod, ["values"], UNKNOWN)), config)).toEqual([]);
    });

    it("takes the reader accounts' prefix from policy config", () => {
        const secrets = replaced(clusterRole, mutate(clusterRole, ["rules", 0, "resources"], ["secrets"]));
        expect(peerReaderRbacFindings(secrets, { readerServiceAccountPrefix: "mesh-reader-" })).toEqual([]);
        expect(peerReaderRbacFindings(secrets, config)).toHaveLength(1);
    });

    it("judges single rules on their own, one message per reason", () => {
        expect(ruleProblems({ apiGroups: [""], resources: ["secrets"], verbs: ["*"] })).toEqual(['grants "*" in verbs', "grants secrets"]);
        expect(ruleProblems("x")).toEqual(["has a rule that is not an object"]);
        expect(ruleProblems(UNKNOWN)).toEqual([]);
    });
});
