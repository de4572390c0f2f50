/**
 * The kubernetes provider the engine gets here: the module proxy serves only v4.25.0's source, so
 * that build is installed under the version the SDK requests (e2e/README.md, "Toolchain").
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { bin, root } from "../runner/paths";

/** Providers the SDKs request that the toolchain cannot build (e2e/README.md); the program must not need them here. */
export const unbuildable = ["pulumi-language-nodejs", "pulumi-resource-command", "pulumi-resource-tls"];

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
        sdkVersion: (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies["@pulumi/kubernetes"],
    };
}
