import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { contextKubeconfig, defaultKubeconfigPaths, MissingContextError } from "../lib/contextKubeconfig";
import { ConfigKey, configKeys, projectName } from "./keys";
import { MeshConfig } from "./model";
import { KubeconfigContextRead, parseMeshConfig, RawConfig } from "./parse";

/**
 * Reads this stack's config and validates it. Reads raw values (no `requireNumber` and the like)
 * so that every problem is reported together by `parseMeshConfig`, with the key, the value and
 * what is allowed.
 */
export function loadMeshConfig(): MeshConfig {
    const raw: RawConfig = {};
    for (const key of Object.keys(configKeys) as ConfigKey[]) {
        const value = pulumi.runtime.getConfig(`${projectName}:${key}`);
        if (value !== undefined) raw[key] = value;
    }
    return parseMeshConfig(raw, {
        hasSecretKey: (key) => pulumi.runtime.getConfig(`${projectName}:${key}`) !== undefined && isSecretConfigKey(`${projectName}:${key}`),
        readKubeconfigContext: readKubeconfigFileContext,
        // Only ever read for a key that config names as a secret one (rootCa.privateKeyConfigKey).
        readSecretKey: (key) => pulumi.runtime.getConfig(`${projectName}:${key}`),
    });
}

/**
 * Reads one context from the named kubeconfig file or, with none named, from the first file kubectl
 * would read (`$KUBECONFIG`, else `~/.kube/config`) that holds it.
 */
export function readKubeconfigFileContext(path: string | undefined, context: string): KubeconfigContextRead {
    const expanded = path?.startsWith("~/") ? join(homedir(), path.slice(2)) : path;
    const candidates = expanded === undefined ? defaultKubeconfigPaths() : [resolve(expanded)];
    const problems: string[] = [];
    // Whether every file that exists was read and only lacked the context.
    let onlyContextMissing = true;
    for (const candidate of candidates) {
        if (!existsSync(candidate)) {
            problems.push(`${candidate} does not exist`);
            if (expanded !== undefined) onlyContextMissing = false;
            continue;
        }
        try {
            return { path: candidate, ...contextKubeconfig(readFileSync(candidate, "utf8"), context, dirname(candidate)) };
        } catch (error) {
            if (!(error instanceof MissingContextError)) onlyContextMissing = false;
            problems.push(`${candidate} ${(error as Error).message}`);
        }
    }
    const message = problems.join("; ");
    throw onlyContextMissing ? new MissingContextError(message) : new Error(message);
}

/**
 * Whether the CLI marked a (namespaced) config key secret. The SDK keeps that in its runtime config
 * store, filled from `PULUMI_CONFIG_SECRET_KEYS` by the Node.js language host and from the run
 * request by the Automation API's inline programs, which set no such variable. The SDK reads it
 * through `isConfigSecret`, which its typings mark internal, so the variable is the fallback.
 */
export function isSecretConfigKey(key: string): boolean {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (key: string) => boolean };
    if (runtimeConfig.isConfigSecret?.(key) === true) return true;
    try {
        const keys: unknown = JSON.parse(process.env.PULUMI_CONFIG_SECRET_KEYS ?? "[]");
        return Array.isArray(keys) && keys.includes(key);
    } catch {
        return false;
    }
}

/** A supplied root CA's private key, as a secret Output. */
export function requireSecretConfig(key: string): pulumi.Output<string> {
    return new pulumi.Config(projectName).requireSecret(key);
}
