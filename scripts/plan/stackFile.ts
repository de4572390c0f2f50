import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parse } from "yaml";

/**
 * A stack file read for the offline plan: any `Pulumi.<stack>.yaml`, not only the committed ones.
 * Its `secure:` values are ciphertext only the Pulumi CLI can decrypt (with the stack's secrets
 * provider), so each is taken from an environment variable when set, or else replaced by a
 * placeholder; either way the program sees it as a secret, and its value is never printed.
 */
export interface PlannedStackFile {
    /** The stack's name, from the file name (`Pulumi.<stack>.yaml`). */
    stack: string;
    /** The `config:` block with every `secure:` value replaced by plain text. */
    config: Record<string, unknown>;
    /** Namespaced top-level keys holding a `secure:` value (secrets for the program). */
    secretKeys: string[];
    /** Per `secure:` value (by config path): the environment variable it is read from, and whether it was set. */
    secrets: { path: string; variable: string; fromEnvironment: boolean }[];
}

/** Text standing in for a `secure:` value whose environment variable is not set. */
export function placeholderFor(path: string): string {
    return `[plan placeholder for secure value ${path}]`;
}

/**
 * The environment variable a `secure:` value is read from: `PLAN_SECRET_` and its config path in
 * capitals, every run of other characters as one `_`. `spire-istio-mesh:cluster1RootKey` is read
 * from `PLAN_SECRET_SPIRE_ISTIO_MESH_CLUSTER1ROOTKEY`.
 */
export function secretVariableName(path: string): string {
    return `PLAN_SECRET_${path.toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_|_$/g, "")}`;
}

/** The stack name a stack file stands for, or undefined when the name is not `Pulumi.<stack>.yaml`/`.yml`. */
export function stackNameOfFile(path: string): string | undefined {
    return /^Pulumi\.(.+)\.ya?ml$/.exec(basename(path))?.[1];
}

function isSecure(value: unknown): value is { secure: string } {
    return value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && typeof (value as { secure?: unknown }).secure === "string";
}

/** Reads a stack file; throws an Error saying what is wrong with it. */
export function readStackFile(path: string, environment: NodeJS.ProcessEnv = process.env): PlannedStackFile {
    const stack = stackNameOfFile(path);
    if (stack === undefined) throw new Error(`${path}: a stack file is named Pulumi.<stack>.yaml`);
    let document: unknown;
    try {
        document = parse(readFileSync(path, "utf8"));
    } catch (error) {
        throw new Error(`${path}: ${(error as Error).message}`);
    }
    const config = (document as { config?: unknown } | null)?.config ?? {};
    if (config === null || typeof config !== "object" || Array.isArray(config)) throw new Error(`${path}: "config" must be a mapping of keys to values`);
    const secrets: PlannedStackFile["secrets"] = [];
    const reveal = (value: unknown, path: string): unknown => {
        if (isSecure(value)) {
            const variable = secretVariableName(path);
            const fromEnvironment = environment[variable] !== undefined;
            secrets.push({ path, variable, fromEnvironment });
            return fromEnvironment ? environment[variable] : placeholderFor(path);
        }
        if (Array.isArray(value)) return value.map((item, index) => reveal(item, `${path}[${index}]`));
        if (value !== null && typeof value === "object") {
            return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, reveal(item, `${path}.${key}`)]));
        }
        return value;
    };
    const revealed = Object.fromEntries(Object.entries(config as Record<string, unknown>).map(([key, value]) => [key, reveal(value, key)]));
    const secretKeys = Object.keys(revealed).filter((key) => secrets.some(({ path }) => path === key || path.startsWith(`${key}.`) || path.startsWith(`${key}[`)));
    return { stack, config: revealed, secretKeys, secrets };
}
