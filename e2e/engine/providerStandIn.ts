/**
 * The kubernetes provider the engine gets here: the module proxy serves only v4.25.0's source, so
 * that build is installed under the version the SDK requests (e2e/README.md, "Toolchain").
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { bin, root } from "../runner/paths";

/** Plugins the SDKs request that the toolchain does not build yet (e2e/README.md); the program must not need them here. */
export const unbuildable = ["pulumi-language-nodejs", "pulumi-resource-command"];

/**
 * The exact version package.json pins for an npm dependency: what the SDK requests of the engine.
 * @param name the npm package
 */
export function sdkVersionOf(name: string): string {
    return (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies[name];
}

/** The provider build standing in for the one the SDK requests. */
export interface StandIn {
    /** What the binary was built as (its link flags' `version.Version`). */
    version: string;
    /** What `@pulumi/kubernetes` in package.json requests: the version it is installed as. */
    sdkVersion: string;
}

/** Reads both versions; the binary must exist (the preflight's toolchain check comes first). */
export function providerStandIn(): StandIn {
    const flags = fs.readFileSync(`${bin("provider-kubernetes", "pulumi-resource-kubernetes")}.flags`, "utf8");
    return {
        version: /version\.Version=(\S+)/.exec(flags)?.[1] ?? "unknown",
        sdkVersion: sdkVersionOf("@pulumi/kubernetes"),
    };
}
