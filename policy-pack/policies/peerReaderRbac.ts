import { peerReaderServiceAccountPrefix } from "../../lib/peerReader";
import { StackFinding, StackPolicyDefinition, toStackPolicy } from "../lib/definition";
import { isKind, isReleaseOf, objectLabel, releaseLabel, releaseValues } from "../lib/kubernetes";
import { PlainResource } from "../lib/resource";
import { at, isRecord, isUnknown, itemsAt, stringAt } from "../lib/values";

export interface PeerReaderRbacConfig {
    /** How the name of every peer reader ServiceAccount starts. */
    readerServiceAccountPrefix: string;
}

/** The only verbs a peer reader may hold: a remote istiod watches, it never writes. */
const readVerbs = new Set(["get", "list", "watch"]);
/** Resources no peer reader may touch by any verb: they hold keys and tokens. */
const forbiddenResources = new Set(["secrets"]);

/** One binding's subjects that are peer reader ServiceAccounts, by name. */
function peerReaderSubjects(binding: PlainResource, prefix: string): string[] {
    return itemsAt(binding.props, ["subjects"])
        .filter((subject) => isRecord(subject) && subject["kind"] === "ServiceAccount" && typeof subject["name"] === "string" && subject["name"].startsWith(prefix))
        .map((subject) => String((subject as Record<string, unknown>)["name"]));
}

/** The (Cluster)Role a binding names, declared in the same cluster (and, for a Role, namespace). */
function boundRole(binding: PlainResource, resources: PlainResource[]): PlainResource | undefined {
    const kind = stringAt(binding.props, ["roleRef", "kind"]);
    const name = stringAt(binding.props, ["roleRef", "name"]);
    const namespace = stringAt(binding.props, ["metadata", "namespace"]);
    return resources.find(
        (role) =>
            role.provider === binding.provider &&
            typeof kind === "string" &&
            isKind(role, "rbac.authorization.k8s.io", kind) &&
            stringAt(role.props, ["metadata", "name"]) === name &&
            (kind === "ClusterRole" || stringAt(role.props, ["metadata", "namespace"]) === namespace),
    );
}

/** Why one rule grants a peer reader more than reading, one message per reason. */
export function ruleProblems(rule: unknown): string[] {
    if (isUnknown(rule)) return [];
    if (!isRecord(rule)) return ["has a rule that is not an object"];
    const problems: string[] = [];
    const list = (field: string) => itemsAt(rule, [field]).filter((item) => !isUnknown(item)).map(String);
    const verbs = list("verbs");
    const groups = list("apiGroups");
    const resources = list("resources");
    for (const [field, values] of [["verbs", verbs], ["apiGroups", groups], ["resources", resources], ["resourceNames", list("resourceNames")]] as const) {
        if (values.includes("*")) problems.push(`grants "*" in ${field}`);
    }
    const writes = verbs.filter((verb) => verb !== "*" && !readVerbs.has(verb));
    if (writes.length > 0) problems.push(`grants ${writes.map((verb) => `"${verb}"`).join(", ")} on ${resources.join(", ") || "(no resources)"}`);
    const secret = resources.filter((resource) => forbiddenResources.has(resource.split("/")[0]));
    if (secret.length > 0 && (groups.includes("") || groups.includes("*"))) problems.push(`grants ${secret.join(", ")}`);
    if (itemsAt(rule, ["nonResourceURLs"]).length > 0) problems.push("grants non-resource URLs");
    return problems;
}

/**
 * What a peer's credential may do in this stack's clusters. Each peer reader ServiceAccount (its
 * name starts with the prefix) may be bound only to Roles and ClusterRoles the stack declares, and
 * those may only get, list and watch, never Secrets, never with a wildcard or by aggregation.
 * Istio's stock reader role is refused outright: the istiod chart binds it unless
 * `global.enableReaderRBAC` is false (templates/reader-clusterrole.yaml), and it grants every
 * Secret of the cluster.
 */
export function peerReaderRbacFindings(resources: PlainResource[], config: PeerReaderRbacConfig): StackFinding[] {
    const findings: StackFinding[] = [];
    const advice = "A peer's credential reaches every team that can read this stack's outputs: grant it only get/list/watch on what a remote istiod watches.";

    for (const release of resources.filter((resource) => isReleaseOf(resource, "istiod") || isReleaseOf(resource, "base"))) {
        if (isUnknown(at(release.props, ["values"]))) continue;
        const enabled = at(releaseValues(release), ["global", "enableReaderRBAC"]);
        if (isUnknown(enabled) || enabled === false) continue;
        findings.push({
            urn: release.urn,
            message:
                `${releaseLabel(release)} leaves global.enableReaderRBAC ${enabled === undefined ? "at the chart's default (true)" : JSON.stringify(enabled)}: ` +
                "Istio's stock reader ClusterRole grants get/list/watch on every Secret and create/delete on ServiceExports, and its one token is shared by every peer. Set it to false and give each peer a reader of its own.",
        });
    }

    const bindings = resources.filter((resource) => isKind(resource, "rbac.authorization.k8s.io", "ClusterRoleBinding") || isKind(resource, "rbac.authorization.k8s.io", "RoleBinding"));
    for (const binding of bindings) {
        const readers = peerReaderSubjects(binding, config.readerServiceAccountPrefix);
        if (readers.length === 0) continue;
        const who = `peer reader ${readers.map((name) => `"${name}"`).join(", ")}`;
        const roleName = stringAt(binding.props, ["roleRef", "name"]);
        if (isUnknown(roleName)) continue;
        const role = boundRole(binding, resources);
        if (!role) {
            findings.push({
                urn: binding.urn,
                message: `${objectLabel(binding)} binds ${who} to ${String(stringAt(binding.props, ["roleRef", "kind"]))} "${String(roleName)}", which this stack does not declare, so what it grants cannot be judged. ${advice}`,
            });
            continue;
        }
        if (at(role.props, ["aggregationRule"]) !== undefined) {
            findings.push({ urn: role.urn, message: `${objectLabel(role)}, bound to ${who}, aggregates other roles, so what it grants cannot be judged. ${advice}` });
        }
        const rules = at(role.props, ["rules"]);
        if (isUnknown(rules)) continue;
        for (const [index, rule] of itemsAt(role.props, ["rules"]).entries()) {
            for (const problem of ruleProblems(rule)) {
                findings.push({ urn: role.urn, message: `${objectLabel(role)}, bound to ${who}, rules[${index}] ${problem}. ${advice}` });
            }
        }
    }
    return findings;
}

export const definition: StackPolicyDefinition<PeerReaderRbacConfig> = {
    scope: "stack",
    name: "peer-reader-rbac",
    description:
        "What a peer's credential may do: every Role or ClusterRole bound to a peer reader ServiceAccount is declared in the stack and grants only get/list/watch, on no Secrets, with no wildcard, no non-resource URL and no aggregation; and no istiod or base release keeps Istio's stock reader role (global.enableReaderRBAC), which reads every Secret.",
    enforcementLevel: "mandatory",
    config: {
        readerServiceAccountPrefix: {
            schema: { type: "string", minLength: 1, description: "How the name of every peer reader ServiceAccount starts." },
            default: peerReaderServiceAccountPrefix,
        },
    },
    validate: peerReaderRbacFindings,
};

export const policy = toStackPolicy(definition);
