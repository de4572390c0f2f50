import { homedir } from "node:os";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { parse, stringify } from "yaml";

/** One context of a user's kubeconfig, cut down to what reaching that one cluster needs. */
export interface ContextKubeconfig {
    /** A kubeconfig holding only this context, its cluster and its user (credentials included). */
    kubeconfig: string;
    /** The API server URL the context names. */
    server: string;
}

/** The kubeconfig was read, but holds no context of that name: the context is what to fix, not the file. */
export class MissingContextError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "MissingContextError";
        Object.setPrototypeOf(this, MissingContextError.prototype);
    }
}

interface NamedEntry {
    name?: unknown;
    [field: string]: unknown;
}

/**
 * Fields that name files relative to the kubeconfig's folder. The cut-down kubeconfig is handed
 * to the provider as text, which has no folder, so they become absolute paths.
 */
const clusterFileFields = ["certificate-authority"];
const userFileFields = ["client-certificate", "client-key", "tokenFile"];

function absolutePaths(entry: Record<string, unknown>, fields: string[], folder: string): Record<string, unknown> {
    const copy = { ...entry };
    for (const field of fields) {
        const value = copy[field];
        if (typeof value === "string" && value !== "" && !isAbsolute(value)) copy[field] = resolve(folder, value);
    }
    return copy;
}

function entryNamed(list: unknown, name: string): NamedEntry | undefined {
    return Array.isArray(list) ? (list as NamedEntry[]).find((entry) => entry?.name === name) : undefined;
}

/**
 * The kubeconfig files kubectl would read when none is named: `$KUBECONFIG` (a path list) or
 * `~/.kube/config`.
 */
export function defaultKubeconfigPaths(env: NodeJS.ProcessEnv = process.env): string[] {
    const fromEnv = (env.KUBECONFIG ?? "").split(delimiter).filter((path) => path !== "");
    return fromEnv.length > 0 ? fromEnv : [join(homedir(), ".kube", "config")];
}

/**
 * Cuts `contextName` out of a kubeconfig text. Throws an Error whose message says what is missing,
 * so config validation can report it before anything is declared.
 */
export function contextKubeconfig(text: string, contextName: string, folder: string): ContextKubeconfig {
    let document: Record<string, unknown>;
    try {
        document = (parse(text) ?? {}) as Record<string, unknown>;
    } catch (error) {
        throw new Error(`is not a YAML kubeconfig (${(error as Error).message.split("\n")[0]})`);
    }
    const context = entryNamed(document.contexts, contextName)?.context as Record<string, unknown> | undefined;
    if (!context) {
        const names = Array.isArray(document.contexts) ? (document.contexts as NamedEntry[]).map((entry) => String(entry?.name)) : [];
        throw new MissingContextError(`has no context "${contextName}" (contexts: ${names.length > 0 ? names.join(", ") : "none"})`);
    }
    const clusterName = String(context.cluster ?? "");
    const userName = String(context.user ?? "");
    const cluster = entryNamed(document.clusters, clusterName)?.cluster as Record<string, unknown> | undefined;
    if (!cluster || typeof cluster.server !== "string" || cluster.server === "") {
        throw new Error(`has no cluster "${clusterName}" with a server URL for context "${contextName}"`);
    }
    const user = entryNamed(document.users, userName)?.user as Record<string, unknown> | undefined;
    if (!user) throw new Error(`has no user "${userName}" for context "${contextName}"`);

    const kubeconfig = stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: clusterName, cluster: absolutePaths(cluster, clusterFileFields, folder) }],
        users: [{ name: userName, user: absolutePaths(user, userFileFields, folder) }],
        contexts: [{ name: contextName, context: { ...context, cluster: clusterName, user: userName } }],
        "current-context": contextName,
        preferences: {},
    });
    return { kubeconfig, server: cluster.server };
}
