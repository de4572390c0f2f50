import { X509Certificate } from "node:crypto";
import { MissingContextError } from "../lib/contextKubeconfig";
import { rootKeyProblem } from "../lib/rootCa";
import { z } from "zod";
import { ChartSource, chartRepositories as publicChartRepositories, defaultVersions } from "../versions";
import { durationSeconds, isDuration } from "./durations";
import { ConfigKey, configKeys } from "./keys";
import { exposures, Platform, platforms } from "./model";

/**
 * The checks of every config value, declared with zod: one schema per key of `config/keys.ts`,
 * whose issue messages say what the key accepts. Values arrive as the Pulumi CLI hands them over
 * (text, with JSON for structures) or, from tests, already parsed; empty text means unset, as it
 * does for the empty defaults `Pulumi.yaml` declares.
 */

/** A kubeconfig context as `ParseOptions.readKubeconfigContext` finds it. */
export interface KubeconfigContextRead {
    /** The file the context was found in. */
    path: string;
    /** That context alone, with its cluster and user. */
    kubeconfig: string;
    /** The context's API server URL. */
    server: string;
}

export interface ParseOptions {
    /** True when the named secret config key is set; used to check `rootCa.privateKeyConfigKey`. */
    hasSecretKey?: (key: string) => boolean;
    /**
     * The value of a secret config key, or undefined when it is not set: used to check, before
     * anything is declared, that a supplied root's private key belongs to its certificate. The
     * value never appears in a message.
     */
    readSecretKey?: (key: string) => string | undefined;
    /**
     * Reads `context` from the kubeconfig file at `path` (or, when undefined, from the files kubectl
     * would read); throws an Error saying what is missing. Used on platform `existing`, so that a
     * wrong file or context is reported with every other problem, before anything is declared.
     */
    readKubeconfigContext?: (path: string | undefined, context: string) => KubeconfigContextRead;
}

/** DNS-1123 label: what Kubernetes object names, kind and GKE accept for a cluster name. */
const dnsLabelPattern = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const networkPattern = /^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$/;
const gcpProjectPattern = /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/;
const gcpLocationPattern = /^[a-z]+-[a-z]+[0-9]+(-[a-z])?$/;
const gcpMachineTypePattern = /^[a-z0-9]+-[a-z0-9-]+$/;
const semverPattern = /^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$/;
const vSemverPattern = /^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$/;
/**
 * An image reference that names a tag, a sha256 digest or both (`name:tag@sha256:<hex>`, the form
 * kind's own default takes); never implicitly `latest`.
 */
const pinnedImagePattern =
    /^[a-z0-9.-]+(?::[0-9]+)?(?:\/[a-z0-9._-]+)+(?::[A-Za-z0-9_][A-Za-z0-9._-]{0,127}(?:@sha256:[a-f0-9]{64})?|@sha256:[a-f0-9]{64})$/;
const httpsUrlPattern = /^https:\/\/[^\s/]+(\/[^\s]*)?$/;
const hostPattern = /^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9a-fA-F:]+:[0-9a-fA-F:]*|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$/;
const cidrPattern = /^(\d{1,3}\.){3}\d{1,3}\/(\d|[12]\d|3[0-2])$|^[0-9a-fA-F:]+\/\d{1,3}$/;
/** `org/project/stack`: the form Pulumi Cloud requires and the local backend accepts (org `organization`). */
const stackReferencePattern = /^[A-Za-z0-9][-A-Za-z0-9_.]*\/[A-Za-z0-9][-A-Za-z0-9_.]*\/[A-Za-z0-9][-A-Za-z0-9_.]*$/;
const kindContextPattern = /^kind-[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const releaseChannels = ["RAPID", "REGULAR", "STABLE", "EXTENDED"] as const;
/** Boot disk types GKE nodes take (hyperdisk-balanced for machine series without persistent disks). */
const gkeDiskTypes = ["pd-balanced", "pd-standard", "pd-ssd", "hyperdisk-balanced"] as const;
const nodePortRange = { min: 30000, max: 32767 };
const defaultGke = { machineType: "e2-standard-4", nodeCount: 3, diskSizeGb: 50, diskType: "pd-balanced" } as const;

/**
 * What every trust domain must be here. SPIFFE allows lowercase letters, digits, '.', '-' and '_'
 * (SPIFFE ID spec, 2.1), but each trust domain also becomes istiod's `meshConfig.trustDomain` or one
 * of its `trustDomainAliases`, which Istio 1.30 accepts only as dot-separated DNS-1123 labels (no
 * '_', no empty label but an optional trailing one), and, for every peer, the name of a
 * ClusterFederatedTrustDomain, a Kubernetes object name (a DNS-1123 subdomain: no '_', no empty
 * label, no trailing '.', at most 253 characters). A trust domain passes here only if it passes all three.
 */
const trustDomainAllowed =
    "a DNS name as SPIFFE, Istio's meshConfig.trustDomain and Kubernetes object names all accept: " +
    "dot-separated labels of 1 to 63 lowercase letters, digits and '-', each starting and ending with a letter or digit, at most 253 characters";
/** One label of a DNS-1123 subdomain. */
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Kubernetes' limit on an object name (DNS-1123 subdomain); the trust domain names the peer's ClusterFederatedTrustDomain. */
export const trustDomainMaxLength = 253;

/** Explains why a string is not a usable trust domain name, or returns undefined when it is one. */
export function trustDomainProblem(value: string): string | undefined {
    if (value.length === 0) return `must not be empty; ${trustDomainAllowed}`;
    if (value.includes("://")) return `has a scheme; ${trustDomainAllowed} (write "example.org", not "spiffe://example.org")`;
    if (value.includes("/")) return `has a path; ${trustDomainAllowed}`;
    if (value.includes(":")) return `has a port; ${trustDomainAllowed}`;
    if (/[A-Z]/.test(value)) return `has uppercase letters; ${trustDomainAllowed}`;
    if (value.includes("_")) {
        return `has '_', which SPIFFE allows but Istio's meshConfig.trustDomain and Kubernetes object names refuse; ${trustDomainAllowed}`;
    }
    if (!/^[a-z0-9.-]+$/.test(value)) return `has characters outside the allowed set; ${trustDomainAllowed}`;
    if (value.length > trustDomainMaxLength) return `is longer than ${trustDomainMaxLength} characters; ${trustDomainAllowed}`;
    const labels = value.split(".");
    if (labels.some((label) => label === "")) return `has an empty label (a leading or trailing '.', or '..'); ${trustDomainAllowed}`;
    if (labels.some((label) => label.length > 63)) return `has a label longer than 63 characters; ${trustDomainAllowed}`;
    if (labels.some((label) => !dnsLabel.test(label))) return `has a label that starts or ends with '-'; ${trustDomainAllowed}`;
    return undefined;
}

// ---- Building blocks: how the CLI's text becomes a checked value -------------------------------

/** Empty text and null mean "not set", like a key the stack leaves out. */
const blankAsUnset = (value: unknown): unknown => (value === "" || value === null ? undefined : value);

/** A value that takes `fallback` when unset (empty text and null included). */
function withFallback<T extends z.ZodType>(schema: T, fallback: z.input<T> & z.output<T>) {
    return z.preprocess(blankAsUnset, schema.default(fallback as never));
}

/** Required: unset (empty text and null included) is reported as "is required". */
function required<T extends z.ZodType>(schema: T) {
    return z.preprocess(blankAsUnset, schema);
}

function text() {
    return z.string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") });
}

const matching = (pattern: RegExp, allowed: string) => text().regex(pattern, allowed);

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
    const allowed = `must be one of ${values.map((v) => JSON.stringify(v)).join(", ")}`;
    return z.enum(values, { error: (issue) => (issue.input === undefined ? "is required" : allowed) });
}

function wholeNumber(min: number, max: number) {
    const allowed = `must be a whole number from ${min} to ${max}`;
    return z.preprocess(
        (value) => (typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value),
        z.number({ error: allowed }).int(allowed).min(min, allowed).max(max, allowed),
    );
}

const trueOrFalse = z.preprocess(
    (value) => (value === "true" ? true : value === "false" ? false : value),
    z.boolean({ error: "must be true or false" }),
);

function duration(wholeHours: boolean) {
    const schema = text().refine(isDuration, 'must be a positive duration such as "1440h", "90m" or "2h30m"');
    return wholeHours
        ? schema.refine((value) => !isDuration(value) || durationSeconds(value) % 3600 === 0, 'must be a whole number of hours, such as "87600h"')
        : schema;
}

/** Structured values (lists, objects) arrive from the CLI as JSON text. */
function structured<T extends z.ZodType>(schema: T) {
    return z.preprocess((value, context) => {
        if (typeof value !== "string" || value === "") return blankAsUnset(value);
        try {
            return JSON.parse(value) as unknown;
        } catch {
            context.issues.push({ code: "custom", message: "must be structured YAML (a list or an object), not a plain string", input: value });
            return z.NEVER;
        }
    }, schema);
}

/**
 * An object of known settings; an unknown one is reported by name (a typo would otherwise be
 * ignored). `notObject` is what a wrong type is told; `missing`, what an absent object is told.
 */
function settings<T extends z.core.$ZodLooseShape>(shape: T, texts: { unknownKey: string; notObject: string; missing?: string }) {
    return z.strictObject(shape, {
        error: (issue) => {
            if (issue.code === "unrecognized_keys") return texts.unknownKey;
            return issue.input === undefined && texts.missing ? texts.missing : texts.notObject;
        },
    });
}

// ---- Keys ---------------------------------------------------------------------------------------

const semverAllowed = "must be an exact chart version such as 1.2.3 (no ranges, no 'latest')";
const imageAllowed =
    "must be an image reference with an explicit tag, sha256 digest or both, such as kindest/node:v1.35.0 or kindest/node:v1.35.0@sha256:<64 hex digits>";
const nodePort = (fallback: number) => withFallback(wholeNumber(nodePortRange.min, nodePortRange.max), fallback);
const sourceRanges = withFallback(
    structured(z.array(matching(cidrPattern, "must be a CIDR such as 203.0.113.0/24"), { error: "must be a list of CIDRs such as 203.0.113.0/24" })),
    [],
);
const chartSources = Object.keys(publicChartRepositories) as ChartSource[];

/**
 * Why a text is not the URL of a classic Helm chart repository this program can install from, or
 * undefined when it is one. Plain http is accepted here; whether it is allowed is decided with
 * `allowPlaintextChartRepositories` (a check across keys).
 */
export function chartRepositoryUrlProblem(value: string): string | undefined {
    const folder = "the https:// URL of a Helm chart repository (the folder holding index.yaml)";
    if (/^oci:\/\//i.test(value)) {
        return (
            "is an OCI registry, and OCI chart sources are not supported: the program installs each chart by name from a classic " +
            `Helm repository's index.yaml; mirror the charts into a chart repository and give ${folder}`
        );
    }
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return `must be ${folder}`;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") return `must be ${folder}`;
    if (/\s/.test(value) || url.hostname === "") return `must be ${folder}`;
    if (url.username !== "" || url.password !== "") {
        return (
            "must not carry credentials (user:password@): a URL is kept in plain text in the stack config, the state and policy messages; " +
            "give them in chartRepositoryCredentials, the password in a secret config key"
        );
    }
    if (url.search !== "" || url.hash !== "" || value.includes("?") || value.includes("#")) return `must have no query or fragment; must be ${folder}`;
    if (/(^|\/)index\.ya?ml$/i.test(url.pathname.replace(/\/+$/, ""))) {
        return `names the index file; must be the folder holding it, e.g. ${url.origin}${url.pathname.replace(/\/?index\.ya?ml\/*$/i, "") || "/"}`;
    }
    return undefined;
}

const chartRepositoryUrl = text()
    .superRefine((value, context) => {
        const problem = chartRepositoryUrlProblem(value);
        if (problem) context.addIssue({ code: "custom", input: value, message: problem });
    })
    .optional();

const chartRepositoryCredential = settings(
    {
        username: required(text().min(1, "must not be empty")),
        passwordConfigKey: required(text()),
    },
    {
        unknownKey: "is not a chart repository credential setting; allowed: username, passwordConfigKey",
        notObject: "must be an object with username and passwordConfigKey (the name of a secret config key holding the password)",
    },
);

const trustDomainName = required(text()).superRefine((value, context) => {
    const problem = trustDomainProblem(value);
    if (problem) context.addIssue({ code: "custom", input: value, message: problem });
});

const peerStack = settings(
    {
        stack: required(
            matching(
                stackReferencePattern,
                "must name the peer's stack as org/project/stack (on the local backend the org is \"organization\")",
            ),
        ),
        trustDomains: z.array(trustDomainName, { error: "must be a list of the peer's trust domains this stack federates with" }).min(
            1,
            "must list at least one of the peer's trust domains",
        ),
    },
    {
        unknownKey: "is not a peer stack setting; allowed: stack, trustDomains",
        notObject: "must be an object with stack (org/project/stack) and trustDomains",
    },
);

/** Every project key but `domains`, whose schema depends on the platform. */
export const scalarKeySchemas = {
    meshId: withFallback(matching(dnsLabelPattern, "must be lowercase letters, digits and '-', starting with a letter"), configKeys.meshId.default),
    platform: required(oneOf(platforms)),
    exposure: z.preprocess(blankAsUnset, oneOf(exposures).optional()),
    rootCaValidity: withFallback(duration(true), configKeys.rootCaValidity.default),
    istiodCertDuration: withFallback(duration(false), configKeys.istiodCertDuration.default),
    istiodCertRenewBefore: withFallback(duration(false), configKeys.istiodCertRenewBefore.default),
    bundleEndpointNodePort: nodePort(configKeys.bundleEndpointNodePort.default),
    eastWestNodePort: nodePort(configKeys.eastWestNodePort.default),
    ingressHttpNodePort: nodePort(configKeys.ingressHttpNodePort.default),
    gkeDeletionProtection: withFallback(trueOrFalse, configKeys.gkeDeletionProtection.default),
    gkeReleaseChannel: withFallback(oneOf(releaseChannels), configKeys.gkeReleaseChannel.default as (typeof releaseChannels)[number]),
    loadBalancerSourceRanges: sourceRanges,
    gkeMasterAuthorizedNetworks: sourceRanges,
    peerSourceRanges: sourceRanges,
    chartRepositories: withFallback(
        structured(
            settings(
                { istio: chartRepositoryUrl, spiffe: chartRepositoryUrl, jetstack: chartRepositoryUrl },
                {
                    unknownKey: `is not a chart source; allowed: ${chartSources.join(", ")}`,
                    notObject: `must be an object mapping chart sources (${chartSources.join(", ")}) to repository URLs`,
                },
            ),
        ),
        {},
    ).transform((mirrors) => ({ ...publicChartRepositories, ...mirrors })),
    allowPlaintextChartRepositories: withFallback(trueOrFalse, configKeys.allowPlaintextChartRepositories.default),
    chartRepositoryCredentials: withFallback(
        structured(
            z.record(z.string(), chartRepositoryCredential, {
                error: `must be an object mapping chart sources (${chartSources.join(", ")}) to {username, passwordConfigKey}`,
            }),
        ),
        {},
    ),
    samplesEnabled: withFallback(trueOrFalse, configKeys.samplesEnabled.default),
    peerStacks: withFallback(structured(z.array(peerStack, { error: "must be a list of peer stacks" })), []),
    // Unset (the declared default "") means: decided by whether the stack has peer stacks.
    exportAdminKubeconfigs: z.preprocess(blankAsUnset, trueOrFalse.optional()),
    istioVersion: withFallback(matching(semverPattern, semverAllowed), defaultVersions.istio),
    spireChartVersion: withFallback(matching(semverPattern, semverAllowed), defaultVersions.spireChart),
    spireCrdsChartVersion: withFallback(matching(semverPattern, semverAllowed), defaultVersions.spireCrdsChart),
    certManagerVersion: withFallback(
        matching(vSemverPattern, "must be an exact cert-manager chart version with its leading v, such as v1.21.1"),
        defaultVersions.certManager,
    ),
    kindNodeImage: withFallback(
        matching(pinnedImagePattern, "must be an image reference with a registry path and an explicit tag, sha256 digest or both, such as kindest/node:v1.35.0"),
        defaultVersions.kindNodeImage,
    ),
} satisfies Record<Exclude<ConfigKey, "domains">, z.ZodType>;

// ---- Domains ------------------------------------------------------------------------------------

const gkeSettings = settings(
    {
        project: required(
            matching(gcpProjectPattern, "must be a GCP project ID: 6 to 30 lowercase letters, digits or hyphens, starting with a letter"),
        ),
        location: required(matching(gcpLocationPattern, "must be a GCP region or zone such as europe-west1 or europe-west1-b")),
        machineType: withFallback(matching(gcpMachineTypePattern, "must be a GCE machine type such as e2-standard-4"), defaultGke.machineType),
        nodeCount: withFallback(wholeNumber(1, 100), defaultGke.nodeCount),
        // GKE refuses boot disks under 10 GB; 64 TB is a persistent disk's ceiling.
        diskSizeGb: withFallback(wholeNumber(10, 65536), defaultGke.diskSizeGb),
        diskType: withFallback(oneOf(gkeDiskTypes), defaultGke.diskType),
    },
    {
        unknownKey: "is not a GKE setting; allowed: project, location, machineType, nodeCount, diskSizeGb, diskType",
        notObject: "must be an object with project, location, machineType, nodeCount, diskSizeGb and diskType",
        missing: "is required on platform gke: an object with project and location",
    },
);

/** The node image is filled in from `kindNodeImage` afterwards, so that key stays the one default. */
const kindSettings = settings(
    {
        nodeImage: z.preprocess(blankAsUnset, matching(pinnedImagePattern, imageAllowed).optional()),
        context: matching(
            kindContextPattern,
            "must be a kubeconfig context that kind wrote, kind-<cluster name> (its node address is read from Docker)",
        ).optional(),
    },
    { unknownKey: "is not a kind setting; allowed: nodeImage, context", notObject: "must be an object with nodeImage and/or context" },
);

function existingSettings(readContext: ParseOptions["readKubeconfigContext"]) {
    return settings(
        {
            context: required(text()),
            kubeconfig: text().optional(),
            apiServerUrl: matching(httpsUrlPattern, "must be the https:// URL at which peers' pods reach this cluster's API server").optional(),
            nodeAddress: matching(hostPattern, "must be an IP address or DNS name at which peers reach this cluster's node ports").optional(),
        },
        {
            unknownKey: "is not a setting of an existing cluster; allowed: context, kubeconfig, apiServerUrl, nodeAddress",
            notObject: "must be an object with context and optionally kubeconfig, apiServerUrl and nodeAddress",
            missing: "is required on platform existing: an object with at least context",
        },
    ).transform((existing, context) => {
        try {
            if (!readContext) throw new Error("no kubeconfig reader (a program error)");
            const read = readContext(existing.kubeconfig, existing.context);
            return {
                context: existing.context,
                kubeconfigPath: read.path,
                kubeconfig: read.kubeconfig,
                contextServer: read.server,
                apiServerUrl: existing.apiServerUrl ?? read.server,
                ...(existing.nodeAddress === undefined ? {} : { nodeAddress: existing.nodeAddress }),
            };
        } catch (error) {
            // A file that holds no such context is the context's problem; a file that cannot be read, the file's.
            const onContext = error instanceof MissingContextError || existing.kubeconfig === undefined;
            context.issues.push({
                code: "custom",
                path: [onContext ? "context" : "kubeconfig"],
                input: onContext ? existing.context : existing.kubeconfig,
                message: `must name a readable kubeconfig holding context "${existing.context}": ${(error as Error).message}`,
            });
            return z.NEVER;
        }
    });
}

function rootCaSettings(options: Required<Pick<ParseOptions, "hasSecretKey">> & ParseOptions) {
    const { hasSecretKey, readSecretKey } = options;
    return settings(
        {
            certificatePem: required(text()).superRefine((pem, context) => {
                let certificate: X509Certificate;
                try {
                    certificate = new X509Certificate(pem);
                } catch {
                    context.addIssue({ code: "custom", input: "(unparseable)", message: "must be one PEM-encoded X.509 certificate" });
                    return;
                }
                if (!certificate.ca) {
                    context.addIssue({ code: "custom", input: "(certificate)", message: "must be a CA certificate (basicConstraints CA:TRUE)" });
                }
            }),
            privateKeyConfigKey: required(text()).superRefine((key, context) => {
                if (!hasSecretKey(key)) {
                    context.addIssue({
                        code: "custom",
                        input: key,
                        message: `must name a secret config key holding the root's PEM private key (set it with: pulumi config set --secret ${key} < key.pem)`,
                    });
                }
            }),
        },
        {
            unknownKey: "is not a root CA setting; allowed: certificatePem, privateKeyConfigKey",
            notObject: "must be an object with certificatePem and privateKeyConfigKey",
        },
    ).superRefine((rootCa, context) => {
        // Runs only once both fields passed: the certificate parses and the key is a secret config key.
        const privateKeyPem = readSecretKey?.(rootCa.privateKeyConfigKey);
        if (privateKeyPem === undefined) return;
        const problem = rootKeyProblem(rootCa.certificatePem, privateKeyPem);
        if (problem) {
            context.addIssue({
                code: "custom",
                path: ["privateKeyConfigKey"],
                input: rootCa.privateKeyConfigKey,
                message: `must name a secret config key holding the PEM private key of rootCa.certificatePem, but ${problem}`,
            });
        }
    });
}

const domainKeys = ["name", "trustDomain", "network", "gke", "kind", "existing", "rootCa", "rootCaGeneration"];

/** One domain's schema on `platform`: only that platform's settings are read (and required where it needs them). */
function domainSchema(platform: Platform | undefined, options: Required<Pick<ParseOptions, "hasSecretKey">> & ParseOptions) {
    const ignored = z.unknown().transform(() => undefined).optional();
    return settings(
        {
            name: required(
                matching(dnsLabelPattern, "must be a cluster name of at most 40 lowercase letters, digits and '-', starting with a letter").max(
                    40,
                    "must be at most 40 characters (GKE's limit on cluster names)",
                ),
            ),
            trustDomain: trustDomainName,
            network: required(matching(networkPattern, "must be an Istio network name: lowercase letters, digits, '-', '.' and '_'")),
            gke: platform === "gke" ? gkeSettings : ignored,
            kind: platform === "kind" ? z.preprocess(blankAsUnset, kindSettings.optional()) : ignored,
            existing: platform === "existing" ? existingSettings(options.readKubeconfigContext) : ignored,
            rootCa: rootCaSettings(options).optional(),
            rootCaGeneration: withFallback(wholeNumber(1, 1000000), 1),
        },
        {
            unknownKey: `is not a domain setting; allowed: ${domainKeys.join(", ")}`,
            notObject: "must be an object with name, trustDomain and network",
        },
    );
}

/**
 * The stack's own domains. Alone, a stack needs two (federation needs a peer); with peer stacks,
 * one is enough.
 */
export function domainsSchema(
    platform: Platform | undefined,
    options: Required<Pick<ParseOptions, "hasSecretKey">> & ParseOptions,
    withPeerStacks: boolean,
) {
    return structured(
        z
            .array(domainSchema(platform, options), {
                error: (issue) =>
                    issue.input === undefined ? "is required: a list of at least two domains (name, trustDomain, network)" : "must be a list of domains",
            })
            .superRefine((domains, context) => {
                if (domains.length < (withPeerStacks ? 1 : 2)) {
                    context.addIssue({
                        code: "custom",
                        input: `${domains.length} domain(s)`,
                        message: withPeerStacks
                            ? "must list at least one domain"
                            : "must list at least two domains: federation needs a peer (or name peers in other stacks with peerStacks)",
                    });
                }
            }),
    );
}
