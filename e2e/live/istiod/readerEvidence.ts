/**
 * Which rules the credential of a holder's remote secret for a peer carries: the ServiceAccount
 * named by its token (the JWT's `sub`), and every rule of the roles bound to it in the peer. Read
 * from the two API servers, not from the program, so that "every peer synced" is reported with
 * the rule set it was synced with.
 */
import { parse as parseYaml } from "yaml";
import { Kube, kubectlJson, List } from "./kube";

interface Subject {
    kind: string;
    name: string;
    namespace?: string;
}
interface Binding {
    metadata: { name: string; namespace?: string };
    roleRef: { kind: string; name: string };
    subjects?: Subject[] | null;
}
interface Role {
    rules?: { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }[] | null;
}

/** `system:serviceaccount:NS:NAME` of a ServiceAccount token (its payload's `sub`), without verifying it. */
export function tokenSubject(token: string): string {
    const payload = token.split(".")[1];
    if (payload === undefined) throw new Error("not a JWT");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as { sub?: string };
    if (!claims.sub) throw new Error("the token has no sub claim");
    return claims.sub;
}

/** The token of a kubeconfig's first user. */
export function kubeconfigToken(text: string): string {
    const config = parseYaml(text) as { users?: { user?: { token?: string } }[] };
    const token = config.users?.[0]?.user?.token;
    if (!token) throw new Error("the kubeconfig has no token user");
    return token;
}

/** `group/resource[names]: verbs` per rule, sorted: a rule set in one line each. */
export function describeRules(rules: NonNullable<Role["rules"]>, where: string): string[] {
    return rules.map((rule) => {
        const what = rule.nonResourceURLs?.join(",") ?? `${(rule.apiGroups ?? [""]).map((group) => group || "core").join(",")}/${(rule.resources ?? []).join(",")}`;
        return `${where} ${what}${rule.resourceNames ? `[${rule.resourceNames.join(",")}]` : ""}: ${rule.verbs.join(",")}`;
    });
}

/** The peer ServiceAccount behind the holder's remote secret for `peerId`, and its rules in the peer. */
export async function remoteCredentialRules(holder: Kube, peer: Kube, peerId: string, namespace = "istio-system"): Promise<{ secret: string; subject: string; rules: string[] }> {
    const secrets = await kubectlJson<List<{ metadata: { name: string }; data?: Record<string, string> }>>(holder, ["-n", namespace, "get", "secrets", "-l", "istio/multiCluster=true"]);
    const secret = secrets.items.find((item) => item.data?.[peerId] !== undefined);
    if (secret === undefined) throw new Error(`no remote secret in ${namespace} has a key ${peerId}`);
    const subject = tokenSubject(kubeconfigToken(Buffer.from(secret.data![peerId], "base64").toString()));
    const [, , saNamespace, saName] = subject.split(":");
    const bound = (binding: Binding) => (binding.subjects ?? []).some((s) => s.kind === "ServiceAccount" && s.name === saName && s.namespace === saNamespace);
    const rules: string[] = [];
    for (const binding of (await kubectlJson<List<Binding>>(peer, ["get", "clusterrolebindings"])).items.filter(bound)) {
        const role = await kubectlJson<Role>(peer, ["get", "clusterrole", binding.roleRef.name]);
        rules.push(...describeRules(role.rules ?? [], `cluster-wide (${binding.roleRef.name})`));
    }
    for (const binding of (await kubectlJson<List<Binding>>(peer, ["get", "rolebindings", "--all-namespaces"])).items.filter(bound)) {
        const role = await kubectlJson<Role>(peer, binding.roleRef.kind === "ClusterRole" ? ["get", "clusterrole", binding.roleRef.name] : ["-n", binding.metadata.namespace!, "get", "role", binding.roleRef.name]);
        rules.push(...describeRules(role.rules ?? [], `in ${binding.metadata.namespace} (${binding.roleRef.name})`));
    }
    return { secret: `${namespace}/${secret.metadata.name}`, subject, rules: rules.sort() };
}
