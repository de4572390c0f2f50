/**
 * The Pulumi CLI's own rules for project config declarations and stack config values, as v3.248.0
 * applies them before it runs a program (`pulumi up`, `preview`, `refresh`, `destroy`). The mock
 * runtime never runs the CLI, so without these a stack the CLI refuses passes every other test.
 *
 * Source, pulumi/pulumi at v3.248.0:
 * - `sdk/go/common/workspace/project.go` `Project.Validate` (declarations), `ValidateConfigValue`
 *   (types), `RewriteShorthandConfigValues` (a scalar declaration is a default);
 * - `sdk/go/common/workspace/config.go` `mergeConfig` (a declared project key with neither default
 *   nor value must be set on the stack) and `validateStackConfigValue` (secret keys must be
 *   encrypted; typed keys must match their type).
 * The messages are the CLI's, so a failure here reads like the error a user would see.
 */

export type SimpleConfigType = "string" | "integer" | "boolean" | "array" | "object";

export interface ConfigItemsType {
    type: SimpleConfigType;
    items?: ConfigItemsType;
}

/** One entry under `config:` in `Pulumi.yaml`, after the CLI's shorthand rewrite. */
export interface ProjectConfigDeclaration {
    type?: SimpleConfigType;
    items?: ConfigItemsType;
    description?: string;
    default?: unknown;
    value?: unknown;
    secret?: boolean;
}

/**
 * A stack config value as the CLI holds it: scalars are text (YAML `30843` and `true` arrive as
 * "30843" and "true"), structures are objects, and `secure:` values are ciphertext.
 */
export type StackConfigValue = { kind: "text"; text: string } | { kind: "object"; value: unknown } | { kind: "secure" };

/** A `config:` entry of `Pulumi.yaml` as written: a scalar or list is shorthand for a default. */
export function readDeclaration(projectName: string, key: string, written: unknown): ProjectConfigDeclaration {
    if (written !== null && typeof written === "object" && !Array.isArray(written)) return written as ProjectConfigDeclaration;
    return isProjectKey(projectName, key) ? { default: written } : { value: written };
}

/** A `config:` entry of `Pulumi.<stack>.yaml` as the CLI stores it. */
export function readStackValue(written: unknown): StackConfigValue {
    if (written !== null && typeof written === "object") {
        const entries = Object.keys(written);
        if (!Array.isArray(written) && entries.length === 1 && entries[0] === "secure") return { kind: "secure" };
        return { kind: "object", value: written };
    }
    return { kind: "text", text: written === null || written === undefined ? "" : String(written) };
}

function isProjectKey(projectName: string, key: string): boolean {
    return !key.includes(":") || key.startsWith(`${projectName}:`);
}

/** `ValidateConfigValue`: what each declared type accepts. */
export function matchesConfigType(type: SimpleConfigType, items: ConfigItemsType | undefined, value: unknown): boolean {
    switch (type) {
        case "string":
            return typeof value === "string";
        case "integer":
            if (typeof value === "number") return Number.isInteger(value);
            // Go's strconv.Atoi: an optional sign and decimal digits, nothing else.
            return typeof value === "string" && /^[+-]?\d+$/.test(value);
        case "boolean":
            return typeof value === "boolean" || value === "true" || value === "false";
        case "object":
            return value !== null && typeof value === "object" && !Array.isArray(value);
        case "array":
            return Array.isArray(value) && items !== undefined && value.every((item) => matchesConfigType(items.type, items.items, item));
    }
}

function fullTypeName(type: SimpleConfigType, items: ConfigItemsType | undefined): string {
    return items === undefined ? type : `array<${fullTypeName(items.type, items.items)}>`;
}

/** `Project.Validate`: the errors the CLI gives for `Pulumi.yaml` itself. */
export function projectDeclarationErrors(projectName: string, declarations: Record<string, ProjectConfigDeclaration>): string[] {
    const errors: string[] = [];
    for (const [key, declaration] of Object.entries(declarations)) {
        if (declaration.default !== undefined && declaration.value !== undefined) {
            errors.push(`project config '${key}' cannot have both a 'default' and 'value' attribute`);
        }
        if (!isProjectKey(projectName, key)) {
            if (declaration.type !== undefined) {
                errors.push(`Configuration key '${key}' is not namespaced by the project and should not define a type`);
            }
            continue;
        }
        if (declaration.type === "array" && declaration.items === undefined) {
            errors.push(
                `The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`,
            );
        }
        if (
            declaration.type !== undefined &&
            declaration.default !== undefined &&
            !matchesConfigType(declaration.type, declaration.items, declaration.default)
        ) {
            errors.push(
                `The default value specified for configuration key '${key}' is not of the expected type '${fullTypeName(declaration.type, declaration.items)}'`,
            );
        }
    }
    return errors;
}

/** `mergeConfig` and `validateStackConfigValues`: the errors the CLI gives for one stack. */
export function stackConfigErrors(
    projectName: string,
    stackName: string,
    declarations: Record<string, ProjectConfigDeclaration>,
    stackConfig: Record<string, StackConfigValue>,
): string[] {
    const qualified = (key: string) => (key.includes(":") ? key : `${projectName}:${key}`);
    const missing = Object.entries(declarations)
        .filter(
            ([key, declaration]) =>
                isProjectKey(projectName, key) &&
                declaration.default === undefined &&
                declaration.value === undefined &&
                stackConfig[qualified(key)] === undefined,
        )
        .map(([key]) => key)
        .sort();
    if (missing.length > 0) {
        const quoted = missing.map((key) => `'${key}'`);
        const list = quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(", ")} and ${quoted[quoted.length - 1]}`;
        return [`Stack '${stackName}' is missing configuration ${missing.length > 1 ? "values" : "value"} ${list}`];
    }
    const errors: string[] = [];
    for (const key of Object.keys(declarations).sort()) {
        const declaration = declarations[key];
        const value = stackConfig[qualified(key)];
        if (value === undefined || declaration.type === undefined) continue;
        if (declaration.secret && value.kind !== "secure") {
            errors.push(`Stack '${stackName}' with configuration key '${key}' must be encrypted as it's secret`);
            continue;
        }
        // A secure value is checked after decryption, which a test cannot do; its type is the CLI's to check.
        if (value.kind === "secure") continue;
        const content = value.kind === "text" ? value.text : value.value;
        if (!matchesConfigType(declaration.type, declaration.items, content)) {
            errors.push(
                `Stack '${stackName}' with configuration key '${key}' must be of type '${fullTypeName(declaration.type, declaration.items)}'`,
            );
        }
    }
    return errors;
}
