import { PolicyResource, ResourceValidationArgs } from "@pulumi/policy";
import { formatPath, Path, toPlain } from "./values";

/**
 * One resource as every policy's core logic sees it: plain data, whichever engine produced it
 * (`pulumi preview --policy-pack`, or the offline plan over a mock run).
 */
export interface PlainResource {
    /** Pulumi type token, e.g. `kubernetes:core/v1:Service`. */
    type: string;
    /** Pulumi resource name (not the Kubernetes object name). */
    name: string;
    urn: string;
    /** Inputs (resource policies) or outputs (stack policies); unknown values are UNKNOWN. */
    props: Record<string, unknown>;
    /** URN of the resource's provider; undefined when the engine reports none. */
    provider?: string;
    /**
     * Providers by package that a component passes to its children (a remote component's child
     * gets its Kubernetes provider this way). Known offline only: `@pulumi/policy` 1.21 hands
     * validations no such map, and under the engine the children are checked themselves.
     */
    providers?: Record<string, string>;
    /**
     * Whether the value at `path` of `props` was a Pulumi secret. Undefined when the source
     * cannot tell: `@pulumi/policy` 1.21 unwraps secrets before validations see the properties.
     */
    isSecretPath?: (path: Path) => boolean;
}

/**
 * What the offline plan has of a declared resource: the test harness's `DeclaredResource`
 * (tests/harness/program.ts) fits this shape, and so does anything else that records inputs.
 */
export interface DeclaredResourceLike {
    type: string;
    name: string;
    urn: string;
    inputs: Record<string, unknown>;
    /** Provider URN, "" or undefined for none. */
    provider?: string;
    /** Providers by package, as a component passes them to its children. */
    providers?: Record<string, string>;
    /** Dotted paths of inputs that were secrets, written as `formatPath` writes them. */
    secretInputPaths?: readonly string[];
}

/** Every prefix of a path, shortest first: a secret object makes everything inside it secret. */
function prefixes(path: Path): Path[] {
    return Array.from({ length: path.length }, (_, index) => path.slice(0, index + 1));
}

/** Adapts a resource recorded by the offline plan (mock run) to what policies check. */
export function fromDeclared(declared: DeclaredResourceLike): PlainResource {
    const secretPaths = declared.secretInputPaths === undefined ? undefined : new Set(declared.secretInputPaths);
    const props = toPlain(declared.inputs) as Record<string, unknown>;
    return {
        type: declared.type,
        name: declared.name,
        urn: declared.urn,
        props,
        provider: declared.provider ? declared.provider : undefined,
        ...(declared.providers ? { providers: declared.providers } : {}),
        isSecretPath: secretPaths && ((path) => prefixes(path).some((prefix) => secretPaths.has(formatPath(prefix)))),
    };
}

/** Adapts what `@pulumi/policy` hands a resource or stack validation to what policies check. */
export function fromPolicyResource(resource: ResourceValidationArgs | PolicyResource): PlainResource {
    return {
        type: resource.type,
        name: resource.name,
        urn: resource.urn,
        props: toPlain(resource.props) as Record<string, unknown>,
        provider: resource.provider?.urn,
    };
}

/** Type token of the root resource of every stack; its outputs are the stack outputs. */
export const rootStackType = "pulumi:pulumi:Stack";

/**
 * The root stack resource as the engine hands it to stack policies once the program registered
 * its outputs: `outputs` are the stack outputs, resolved (UNKNOWN for what a preview does not know),
 * and `secretOutputs` the dotted paths of those that are secrets (which only the offline plan knows).
 */
export function fromStackOutputs(args: { project: string; stack: string; outputs: Record<string, unknown>; secretOutputs?: readonly string[] }): PlainResource {
    const name = `${args.project}-${args.stack}`;
    return fromDeclared({
        type: rootStackType,
        name,
        urn: `urn:pulumi:${args.stack}::${args.project}::${rootStackType}::${name}`,
        inputs: args.outputs,
        secretInputPaths: args.secretOutputs,
    });
}
