import {
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceRemediation,
    ResourceValidationPolicy,
    StackValidationPolicy,
} from "@pulumi/policy";
import { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { fromPolicyResource, PlainResource } from "./resource";

/** One configurable setting of a policy: its JSON schema and its default. */
export interface ConfigSetting<T> {
    schema: PolicyConfigJSONSchema;
    default: T;
}

export type ConfigSettings<C> = { [K in keyof C]: ConfigSetting<C[K]> };

interface PolicyBase<C> {
    /** Unique within the pack; also the key of the policy's entry in policy config. */
    name: string;
    description: string;
    enforcementLevel: EnforcementLevel;
    /** Settings besides `enforcementLevel` (which policy config can always change). */
    config: ConfigSettings<C>;
}

export interface ResourcePolicyDefinition<C = Record<string, never>> extends PolicyBase<C> {
    scope: "resource";
    /** Messages for each violation of this one resource; none when it complies or does not apply. */
    validate(resource: PlainResource, config: C): string[];
}

/** A stack-wide finding; `urn` names the resource to change, if there is one. */
export interface StackFinding {
    urn?: string;
    message: string;
}

export interface StackPolicyDefinition<C = Record<string, never>> extends PolicyBase<C> {
    scope: "stack";
    validate(resources: PlainResource[], config: C): StackFinding[];
}

export type PolicyDefinition<C = Record<string, never>> = ResourcePolicyDefinition<C> | StackPolicyDefinition<C>;

/** The policy config schema (`configSchema`) of a definition. */
export function configSchemaOf<C>(definition: PolicyBase<C>): PolicyConfigSchema | undefined {
    const entries = Object.entries(definition.config) as [string, ConfigSetting<unknown>][];
    if (entries.length === 0) return undefined;
    return {
        properties: Object.fromEntries(
            entries.map(([key, setting]) => [key, { ...setting.schema, default: setting.default } as PolicyConfigJSONSchema]),
        ),
    };
}

/** Defaults overlaid with the settings given in policy config (unknown keys are ignored). */
export function effectiveConfig<C>(definition: PolicyBase<C>, given: Record<string, unknown> = {}): C {
    const settings = definition.config as Record<string, ConfigSetting<unknown>>;
    return Object.fromEntries(
        Object.entries(settings).map(([key, setting]) => [key, key in given && given[key] !== undefined ? given[key] : setting.default]),
    ) as C;
}

/** The `@pulumi/policy` form of a resource policy definition: a thin adapter over `validate`. */
export function toResourcePolicy<C>(
    definition: ResourcePolicyDefinition<C>,
    remediateResource?: ResourceRemediation,
): ResourceValidationPolicy {
    return {
        name: definition.name,
        description: definition.description,
        enforcementLevel: definition.enforcementLevel,
        configSchema: configSchemaOf(definition),
        validateResource: (args, reportViolation) => {
            const config = effectiveConfig(definition, args.getConfig<Record<string, unknown>>());
            for (const message of definition.validate(fromPolicyResource(args), config)) reportViolation(message);
        },
        ...(remediateResource ? { remediateResource } : {}),
    };
}

/** The `@pulumi/policy` form of a stack policy definition: a thin adapter over `validate`. */
export function toStackPolicy<C>(definition: StackPolicyDefinition<C>): StackValidationPolicy {
    return {
        name: definition.name,
        description: definition.description,
        enforcementLevel: definition.enforcementLevel,
        configSchema: configSchemaOf(definition),
        validateStack: (args, reportViolation) => {
            const config = effectiveConfig(definition, args.getConfig<Record<string, unknown>>());
            const resources = args.resources.map(fromPolicyResource);
            for (const finding of definition.validate(resources, config)) reportViolation(finding.message, finding.urn);
        },
    };
}
