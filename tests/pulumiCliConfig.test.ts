import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { projectName } from "../config/keys";
import {
    ProjectConfigDeclaration,
    projectDeclarationErrors,
    readDeclaration,
    readStackValue,
    StackConfigValue,
    stackConfigErrors,
} from "./harness/pulumiCliConfig";
import { projectRoot, stackFileConfig, stackNames } from "./harness/stacks";

function projectDeclarations(text = readFileSync(join(projectRoot, "Pulumi.yaml"), "utf8")): Record<string, ProjectConfigDeclaration> {
    const written = (parse(text) as { config?: Record<string, unknown> }).config ?? {};
    return Object.fromEntries(Object.entries(written).map(([key, value]) => [key, readDeclaration(projectName, key, value)]));
}

function stackValues(config: Record<string, unknown>): Record<string, StackConfigValue> {
    return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, readStackValue(value)]));
}

describe("the Pulumi CLI accepts the committed project and stacks", () => {
    it("Pulumi.yaml passes the CLI's declaration checks", () => {
        expect(projectDeclarationErrors(projectName, projectDeclarations())).toEqual([]);
    });

    it.each(stackNames)("%s sets every required key, each with its declared type", (stack) => {
        expect(stackConfigErrors(projectName, stack, projectDeclarations(), stackValues(stackFileConfig(stack)))).toEqual([]);
    });

    it("only the keys a stack must choose are required", () => {
        const required = Object.entries(projectDeclarations())
            .filter(([, declaration]) => declaration.default === undefined && declaration.value === undefined)
            .map(([key]) => key)
            .sort();
        expect(required).toEqual(["domains", "platform"]);
    });

    it("a new stack that sets only platform and domains is accepted", () => {
        const minimal = { [`${projectName}:platform`]: "kind", [`${projectName}:domains`]: [{ name: "a" }, { name: "b" }] };
        expect(stackConfigErrors(projectName, "dev", projectDeclarations(), stackValues(minimal))).toEqual([]);
    });
});

describe("the CLI's rules, as the harness applies them", () => {
    const declarations: Record<string, ProjectConfigDeclaration> = {
        platform: { type: "string" },
        version: { type: "string" },
        port: { type: "integer", default: 30843 },
        enabled: { type: "boolean", default: true },
        ranges: { type: "array", items: { type: "string" }, default: [] },
        domains: { type: "array", items: { type: "object" } },
        rootKey: { type: "string", secret: true, default: "" },
    };
    const set = (values: Record<string, unknown>) =>
        stackValues(Object.fromEntries(Object.entries(values).map(([key, value]) => [`${projectName}:${key}`, value])));
    const complete = { platform: "kind", version: "1.0.0", domains: [{ name: "a" }] };

    it("names every declared key without a default that the stack leaves unset, as the CLI does", () => {
        expect(stackConfigErrors(projectName, "cluster-kind", declarations, set({ domains: [] }))).toEqual([
            "Stack 'cluster-kind' is missing configuration values 'platform' and 'version'",
        ]);
        expect(stackConfigErrors(projectName, "s", { a: {}, b: {}, c: { type: "string" } }, {})).toEqual([
            "Stack 's' is missing configuration values 'a', 'b' and 'c'",
        ]);
        expect(stackConfigErrors(projectName, "s", { a: { type: "integer" } }, {})).toEqual([
            "Stack 's' is missing configuration value 'a'",
        ]);
    });

    it("refuses a value of the wrong type, with the CLI's message", () => {
        expect(stackConfigErrors(projectName, "s", declarations, set({ ...complete, port: "30843.5" }))).toEqual([
            "Stack 's' with configuration key 'port' must be of type 'integer'",
        ]);
        expect(stackConfigErrors(projectName, "s", declarations, set({ ...complete, enabled: "yes" }))).toEqual([
            "Stack 's' with configuration key 'enabled' must be of type 'boolean'",
        ]);
        expect(stackConfigErrors(projectName, "s", declarations, set({ ...complete, ranges: "10.0.0.0/8" }))).toEqual([
            "Stack 's' with configuration key 'ranges' must be of type 'array<string>'",
        ]);
        expect(stackConfigErrors(projectName, "s", declarations, set({ ...complete, domains: ["a"] }))).toEqual([
            "Stack 's' with configuration key 'domains' must be of type 'array<object>'",
        ]);
    });

    it("takes YAML scalars as the CLI stores them: text that parses as the declared type", () => {
        expect(stackConfigErrors(projectName, "s", declarations, set({ ...complete, port: 31000, enabled: false }))).toEqual([]);
    });

    it("requires a secret key to be encrypted in the stack file", () => {
        expect(stackConfigErrors(projectName, "s", declarations, set({ ...complete, rootKey: "-----BEGIN" }))).toEqual([
            "Stack 's' with configuration key 'rootKey' must be encrypted as it's secret",
        ]);
        expect(stackConfigErrors(projectName, "s", declarations, set({ ...complete, rootKey: { secure: "AAAA" } }))).toEqual([]);
    });

    it("refuses declarations the CLI refuses", () => {
        expect(
            projectDeclarationErrors(projectName, {
                list: { type: "array" },
                count: { type: "integer", default: "many" },
                both: { default: 1, value: 2 },
                "gcp:project": { type: "string", value: "p" },
            }),
        ).toEqual([
            "The configuration key 'list' declares an array but does not specify the underlying type via the 'items' attribute",
            "The default value specified for configuration key 'count' is not of the expected type 'integer'",
            "project config 'both' cannot have both a 'default' and 'value' attribute",
            "Configuration key 'gcp:project' is not namespaced by the project and should not define a type",
        ]);
    });

    it("reads shorthand declarations as defaults of project keys", () => {
        expect(readDeclaration(projectName, "meshId", "multi-mesh")).toEqual({ default: "multi-mesh" });
        expect(readDeclaration(projectName, "gcp:project", "p")).toEqual({ value: "p" });
    });
});
