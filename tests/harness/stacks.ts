import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { projectName } from "../../config/keys";

export const projectRoot = join(__dirname, "..", "..");
export type StackName = "cluster-gke" | "cluster-kind";
export const stackNames: StackName[] = ["cluster-gke", "cluster-kind"];

/** Flat config as the Pulumi CLI hands it to a program: `namespace:key` to string (JSON for structures). */
export type FlatConfig = Record<string, string>;

/** A stack's `config:` block exactly as the stack file (`Pulumi.<stack>.yaml` in the project) gives it. */
export function stackFileConfig(stack: string): Record<string, unknown> {
    const document = parse(readFileSync(join(projectRoot, `Pulumi.${stack}.yaml`), "utf8")) as {
        config?: Record<string, unknown>;
    };
    return document.config ?? {};
}

export function flatten(config: Record<string, unknown>): FlatConfig {
    return Object.fromEntries(
        Object.entries(config).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]),
    );
}

/** Project config of a stack file, keyed without the project prefix (what `parseMeshConfig` takes). */
export function projectConfigOf(stack: string): Record<string, unknown> {
    const prefix = `${projectName}:`;
    return Object.fromEntries(
        Object.entries(stackFileConfig(stack))
            .filter(([key]) => key.startsWith(prefix))
            .map(([key, value]) => [key.slice(prefix.length), value]),
    );
}

interface DomainEntry {
    name: string;
    trustDomain: string;
    network: string;
    [key: string]: unknown;
}

/**
 * The stack's config with a third domain added, cloned from the second, to prove nothing assumes
 * exactly two clusters.
 */
export function withThirdDomain(stack: StackName): Record<string, unknown> {
    const config = projectConfigOf(stack);
    const domains = config.domains as DomainEntry[];
    const template = domains[1];
    return {
        ...config,
        domains: [...domains, { ...template, name: "cluster-3", trustDomain: "baz.com", network: "baz-network" }],
    };
}
