import { ResourceValidationArgs, Secret } from "@pulumi/policy";
import { ResourcePolicyDefinition, toResourcePolicy } from "../lib/definition";
import { certManagerComponentType, groupKindOf, helmReleaseType, isKind, labelsOf, objectLabel } from "../lib/kubernetes";
import { fromPolicyResource, PlainResource } from "../lib/resource";
import { at, entriesAt, formatPath, isRecord, isUnknown, Path, stringLeaves } from "../lib/values";

/** A value that must be a Pulumi secret, where it is and what it is (for the message). */
export interface SensitiveValue {
    path: Path;
    what: string;
}

const pemPrivateKey = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;
const jsonWebToken = /^eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/;

function looksLikeKubeconfig(text: string): boolean {
    const yaml = /(^|\n)kind:\s*["']?Config["']?\s*(\n|$)/.test(text) && /(^|\n)clusters:/.test(text);
    const json = /"kind"\s*:\s*"Config"/.test(text) && /"clusters"\s*:/.test(text);
    return yaml || json;
}

/** What secret material a text is, if any: a private key, a kubeconfig or a bearer token. */
export function secretMaterialIn(text: string): string | undefined {
    if (pemPrivateKey.test(text)) return "a PEM private key";
    if (looksLikeKubeconfig(text)) return "a kubeconfig";
    if (jsonWebToken.test(text.trim())) return "a bearer token";
    return undefined;
}

/** The same, also looking inside base64 (how Kubernetes Secret `data` carries values). */
function secretMaterialInEncoded(text: string): string | undefined {
    const plain = secretMaterialIn(text);
    if (plain) return plain;
    if (text.length < 16 || !/^[A-Za-z0-9+/=\s]+$/.test(text)) return undefined;
    const decoded = secretMaterialIn(Buffer.from(text, "base64").toString("utf8"));
    return decoded && `${decoded} (base64)`;
}

/** Secret entry names that mean credentials: tls.key, ca.key, token, password, kubeconfig, … */
const sensitiveSecretKey = /(^|[._-])(key|token|password|passwd|secret|credentials?|kubeconfig)$/i;

/** Secrets Istio reads as remote-cluster kubeconfigs, whatever their entries are called. */
const istioRemoteSecretLabel = { key: "istio/multiCluster", value: "true" } as const;

/** Every value of a resource that must be secret, by field (whatever its content) or by content. */
export function sensitiveValues(resource: PlainResource): SensitiveValue[] {
    const found = new Map<string, SensitiveValue>();
    const add = (path: Path, what: string) => {
        const key = formatPath(path);
        if (!found.has(key)) found.set(key, { path, what });
    };
    const props = resource.props;

    if (resource.type === "pulumi:providers:kubernetes") {
        const kubeconfig = at(props, ["kubeconfig"]);
        // A one-line value is a file path, not the credentials themselves.
        if (isUnknown(kubeconfig) || (typeof kubeconfig === "string" && /[\n{]/.test(kubeconfig))) add(["kubeconfig"], "the kubeconfig");
    }
    // A chart repository's password (basic auth of a mirror): the program reads it from secret config.
    if (resource.type === helmReleaseType && at(props, ["repositoryOpts", "password"]) !== undefined) {
        add(["repositoryOpts", "password"], "the chart repository's password");
    }
    // cert-manager's component hands its helmOptions to the Release its plugin creates.
    if (resource.type === certManagerComponentType && at(props, ["helmOptions", "repositoryOpts", "password"]) !== undefined) {
        add(["helmOptions", "repositoryOpts", "password"], "the chart repository's password");
    }
    if (resource.type.startsWith("tls:")) {
        for (const field of ["privateKeyPem", "caPrivateKeyPem"]) {
            if (at(props, [field]) !== undefined) add([field], `the private key ${field}`);
        }
    }
    if (isKind(resource, "", "Secret")) {
        const remoteSecret = labelsOf(resource)[istioRemoteSecretLabel.key] === istioRemoteSecretLabel.value;
        for (const field of ["data", "stringData"]) {
            for (const [key] of entriesAt(props, [field])) {
                if (remoteSecret) add([field, key], "a remote cluster's kubeconfig");
                else if (sensitiveSecretKey.test(key)) add([field, key], `Secret entry ${key}`);
            }
        }
    }
    for (const leaf of stringLeaves(props)) {
        const material = leaf.path[0] === "data" && isKind(resource, "", "Secret") ? secretMaterialInEncoded(leaf.value) : secretMaterialIn(leaf.value);
        if (material) add(leaf.path, material);
    }
    return [...found.values()];
}

function resourceLabel(resource: PlainResource): string {
    return groupKindOf(resource) ? objectLabel(resource) : `${resource.type} "${resource.name}"`;
}

export function sensitiveValueProblems(resource: PlainResource): string[] {
    const isSecretPath = resource.isSecretPath;
    // Without secretness information (a live `pulumi preview`), nothing can be judged here; the
    // remediation below handles that case.
    if (!isSecretPath) return [];
    return sensitiveValues(resource)
        // An unknown value (a preview) travels without its secret marking, so it cannot be
        // judged until the update knows it.
        .filter((value) => !isUnknown(at(resource.props, value.path)))
        .filter((value) => !isSecretPath(value.path))
        .map(
            (value) =>
                `${resourceLabel(resource)}: ${value.what} at ${formatPath(value.path)} is not a Pulumi secret, so it is stored in plain text in the state and shown in diffs; make it secret (pulumi.secret(...), or derive it from a secret output).`,
        );
}

/** The policy SDK's own objects behind its property proxies, where secrets are still `Secret`s. */
function unwrapProxies(value: unknown): unknown {
    let current = value;
    while (isRecord(current) && current["__isSpecialProxy"] === true) current = current["__getSpecialProxyTarget"];
    return current;
}

function isSecretInRaw(raw: unknown, path: Path): boolean {
    let current = raw;
    for (const segment of path) {
        if (current instanceof Secret) return true;
        if (current === null || typeof current !== "object") return false;
        current = (current as Record<string | number, unknown>)[segment];
    }
    return current instanceof Secret;
}

function cloneRaw(value: unknown): unknown {
    if (value instanceof Secret) return new Secret(cloneRaw(value.value));
    if (Array.isArray(value)) return value.map(cloneRaw);
    if (isRecord(value) && Object.getPrototypeOf(value) === Object.prototype) {
        return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, cloneRaw(item)]));
    }
    return value;
}

/**
 * Remediation for a live `pulumi preview/up`: `@pulumi/policy` 1.21 keeps secretness only in the
 * properties it hands to remediations (validations see secrets unwrapped), so at enforcement
 * level `remediate` this wraps every sensitive value that is not yet secret in a `Secret`,
 * keeping it out of the state in plain text. Returns undefined when nothing needs changing.
 */
export function remediateSensitiveValues(args: ResourceValidationArgs): Record<string, unknown> | undefined {
    const raw = unwrapProxies(args.props);
    if (!isRecord(raw)) return undefined;
    const resource = fromPolicyResource(args);
    const missing = sensitiveValues(resource).filter((value) => !isSecretInRaw(raw, value.path));
    if (missing.length === 0) return undefined;
    const remediated = cloneRaw(raw) as Record<string, unknown>;
    for (const { path } of missing) {
        const parent = path.slice(0, -1).reduce<unknown>((node, segment) => (node as Record<string | number, unknown>)[segment], remediated);
        const last = path[path.length - 1];
        const container = parent as Record<string | number, unknown>;
        container[last] = new Secret(container[last]);
    }
    return remediated;
}

export const definition: ResourcePolicyDefinition = {
    scope: "resource",
    name: "sensitive-values-secret",
    description:
        "Kubeconfigs, tokens and private keys are Pulumi secrets: the Kubernetes provider's kubeconfig, tls private key inputs, credential-like Secret entries (tls.key, token, *password*, kubeconfig), Istio remote secrets, a Helm release's chart repository password, and any value containing a PEM private key, a kubeconfig or a JWT. Limits: @pulumi/policy 1.21 shows validations secrets already unwrapped, so under `pulumi preview --policy-pack` this policy acts as a remediation (default level `remediate`: it marks such values secret); the offline plan knows which inputs were secret and reports them (as mandatory).",
    enforcementLevel: "remediate",
    config: {},
    validate: (resource) => sensitiveValueProblems(resource),
};

export const policy = toResourcePolicy(definition, remediateSensitiveValues);
