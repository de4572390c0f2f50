/**
 * The plugins the engine runs, each built by e2e/build-toolchain.sh at exactly the version
 * package.json pins for its SDK (or, for the language host, for @pulumi/pulumi) and installed as
 * that version: what a user's `pulumi up` downloads, built here from the same source.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { bin, root } from "../runner/paths";

/**
 * The exact version package.json pins for an npm dependency: what the SDK requests of the engine.
 * @param name the npm package
 */
export function sdkVersionOf(name: string): string {
    return (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies[name];
}

/** One resource provider plugin the program's SDKs request. */
export interface ResourcePlugin {
    /** The plugin's name (`pulumi plugin install resource <name>`). */
    name: string;
    /** The npm package whose pinned version the SDK requests. */
    sdk: string;
    /** The toolchain family that builds it. */
    family: string;
}

/** Every resource plugin the program's dependencies request; the policy and the language host come with the CLI. */
export const resourcePlugins: ResourcePlugin[] = [
    { name: "kubernetes", sdk: "@pulumi/kubernetes", family: "provider-kubernetes" },
    { name: "tls", sdk: "@pulumi/tls", family: "provider-tls" },
    { name: "command", sdk: "@pulumi/command", family: "provider-command" },
    { name: "kubernetes-cert-manager", sdk: "@pulumi/kubernetes-cert-manager", family: "provider-kubernetes-cert-manager" },
];

/** The binary of a resource plugin. */
export const pluginBinary = (plugin: ResourcePlugin): string => bin(plugin.family, `pulumi-resource-${plugin.name}`);

/**
 * The version the binary was stamped with (its build flags' `version.Version`), which must be the
 * version it is installed as: a build of other code under a pinned version's name would be a stand-in.
 * @param plugin one of `resourcePlugins`
 */
export function stampedVersion(plugin: ResourcePlugin): string {
    const flags = fs.readFileSync(`${pluginBinary(plugin)}.flags`, "utf8");
    return /version\.Version=v?(\S+)/.exec(flags)?.[1] ?? "unknown";
}
