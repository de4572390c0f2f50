import { parse } from "yaml";
import { isRecord, isUnknown } from "./values";

/** What a credential handed to another party may be: a kubeconfig for one peer reader service account. */
export interface ReaderKubeconfigRules {
    /**
     * How the name of the service account a bearer token belongs to must start (any namespace:
     * the program's Istio namespace is configurable); each peer has an account of its own. Its JWT
     * `sub` is `system:serviceaccount:<namespace>:<name>`. What that account may do is judged by
     * the `peer-reader-rbac` policy.
     */
    readerServiceAccountPrefix: string;
}

/** The JSON payload of a JWT, or undefined when the text is not one. */
export function jwtPayload(token: string): Record<string, unknown> | undefined {
    const parts = token.trim().split(".");
    if (parts.length !== 3 || !/^[A-Za-z0-9_-]+$/.test(parts[1])) return undefined;
    try {
        const payload: unknown = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
        return isRecord(payload) ? payload : undefined;
    } catch {
        return undefined;
    }
}

function describeKeys(keys: string[]): string {
    return keys.map((key) => `"${key}"`).join(", ");
}

/**
 * Why a kubeconfig is not reader-only, one message per reason; none when it is. Reader-only means
 * one user, authenticating with nothing but an inline bearer `token` (no client certificate or key,
 * no exec or auth-provider plugin, no basic auth, no token file, no impersonation), and that token,
 * when known, is a service-account JWT of a peer reader account. A value a preview does not know is not judged.
 */
export function readerKubeconfigProblems(kubeconfig: unknown, rules: ReaderKubeconfigRules): string[] {
    if (isUnknown(kubeconfig)) return [];
    if (typeof kubeconfig !== "string") return ["is not a kubeconfig text"];
    let document: unknown;
    try {
        document = parse(kubeconfig);
    } catch {
        return ["is not valid kubeconfig YAML"];
    }
    if (!isRecord(document) || !Array.isArray(document["users"])) return ["is not a kubeconfig (no users list)"];
    const users = document["users"];
    if (users.length !== 1) return [`has ${users.length} users; a reader kubeconfig has exactly one`];
    const entry: unknown = users[0];
    const user = isRecord(entry) ? entry["user"] : undefined;
    const userName = isRecord(entry) && typeof entry["name"] === "string" ? entry["name"] : "(unnamed)";
    if (!isRecord(user)) return [`user ${userName} has no credentials`];

    const problems: string[] = [];
    // Anything but `token` either is an admin credential (client certificates, basic auth, cloud
    // plugins run as the caller's identity) or widens the token's identity (impersonation).
    const extra = Object.keys(user).filter((key) => key !== "token");
    if (extra.length > 0) {
        problems.push(`user ${userName} has ${describeKeys(extra)}; a reader kubeconfig authenticates with a bearer "token" only`);
    }
    const token = user["token"];
    if (isUnknown(token)) return problems;
    if (typeof token !== "string" || token.trim() === "") {
        // A user with other credentials instead is already reported as such.
        if (extra.length === 0) problems.push(`user ${userName} has no bearer "token"`);
        return problems;
    }
    const payload = jwtPayload(token);
    const subject = payload?.["sub"];
    const expected = `system:serviceaccount:<namespace>:${rules.readerServiceAccountPrefix}<peer>`;
    if (typeof subject !== "string") {
        problems.push(`user ${userName}'s token is not a service-account JWT with a "sub" claim, so it cannot be shown to be ${expected}`);
        return problems;
    }
    const match = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(subject);
    if (!match || !match[2].startsWith(rules.readerServiceAccountPrefix) || match[2] === rules.readerServiceAccountPrefix) {
        problems.push(`user ${userName}'s token belongs to "${subject}", not ${expected}`);
    }
    return problems;
}
