import { EnforcementLevel, PolicyPackConfig } from "@pulumi/policy";
import { effectiveConfig, PolicyDefinition } from "./lib/definition";
import { PlainResource } from "./lib/resource";
import { policyModules } from "./pack";

export { DeclaredResourceLike, fromDeclared, fromStackOutputs, PlainResource } from "./lib/resource";
export { PolicyPackConfig } from "@pulumi/policy";

/** One policy violation found by `evaluatePolicies`. */
export interface PolicyViolation {
    /** The policy's name, e.g. `spire-federation`. */
    policy: string;
    /**
     * `mandatory` blocks a deployment, `advisory` only warns. A `remediate` policy reports as
     * mandatory here: offline, nothing can be remediated (the engine does the same when a
     * remediated resource still violates).
     */
    enforcementLevel: "advisory" | "mandatory";
    /** The resource to change, when the violation is about one. */
    urn?: string;
    message: string;
}

function levelOf(definition: PolicyDefinition<unknown>, config: PolicyPackConfig): EnforcementLevel {
    const given = config[definition.name];
    if (typeof given === "string") return given;
    return given?.enforcementLevel ?? definition.enforcementLevel;
}

function settingsOf(definition: PolicyDefinition<unknown>, config: PolicyPackConfig): Record<string, unknown> {
    const given = config[definition.name];
    if (given === undefined || typeof given === "string") return {};
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { enforcementLevel, ...settings } = given;
    return settings;
}

/**
 * Runs every policy of the pack over plain resource records, as `pulumi preview --policy-pack`
 * would over a stack, with the same policy config shape (`{ "<policy>": level | { enforcementLevel?,
 * ...settings } }`). Resource policies see each record's props; stack policies see all records.
 * Use `fromDeclared` to turn a mock run's declared resources into records.
 */
export function evaluatePolicies(resources: readonly PlainResource[], config: PolicyPackConfig = {}): PolicyViolation[] {
    const violations: PolicyViolation[] = [];
    for (const { definition } of policyModules) {
        const level = levelOf(definition, config);
        if (level === "disabled") continue;
        const enforcementLevel = level === "advisory" ? "advisory" : "mandatory";
        const settings = effectiveConfig(definition, settingsOf(definition, config));
        if (definition.scope === "resource") {
            for (const resource of resources) {
                for (const message of definition.validate(resource, settings)) {
                    violations.push({ policy: definition.name, enforcementLevel, urn: resource.urn, message });
                }
            }
        } else {
            for (const finding of definition.validate([...resources], settings)) {
                violations.push({
                    policy: definition.name,
                    enforcementLevel,
                    ...(finding.urn === undefined ? {} : { urn: finding.urn }),
                    message: finding.message,
                });
            }
        }
    }
    return violations;
}
