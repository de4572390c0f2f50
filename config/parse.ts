import { X509Certificate } from "node:crypto";
import { ChartRepositories, chartRepositories as publicChartRepositories, defaultVersions, Versions } from "../versions";
import { durationSeconds, isDuration } from "./durations";
import { ConfigError, ConfigProblem } from "./errors";
import { ConfigKey, configKeys } from "./keys";
import {
    DomainConfig,
    ExistingDomainSettings,
    Exposure,
    exposures,
    GkeDomainSettings,
    KindDomainSettings,
    MeshConfig,
    Platform,
    platforms,
    SuppliedRootCa,
} from "./model";

/**
 * Raw stack config as Pulumi hands it over: strings (config values are strings on the wire, JSON
 * for structured ones) or, from tests, the already-parsed values.
 */
export type RawConfig = Partial<Record<ConfigKey, unknown>>;

/** A kubeconfig context as `readKubeconfigContext` finds it. */
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
     * Reads `context` from the kubeconfig file at `path` (or, when undefined, from the files kubectl
     * would read); throws an Error saying what is missing. Used on platform `existing`, so that a
     * wrong file or context is reported with every other problem, before anything is declared.
     */
    readKubeconfigContext?: (path: string | undefined, context: string) => KubeconfigContextRead;
}

/** SPIFFE trust domain name: lowercase letters, digits, `.`, `-`, `_` (SPIFFE ID spec, 2.1). */
const trustDomainPattern = /^[a-z0-9._-]+$/;
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
const releaseChannels = ["RAPID", "REGULAR", "STABLE", "EXTENDED"];
const nodePortRange = { min: 30000, max: 32767 };

const defaultGke = { machineType: "e2-standard-4", nodeCount: 3, diskSizeGb: 50, diskType: "pd-balanced" } as const;
/** Boot disk types GKE nodes take (hyperdisk-balanced for machine series without persistent disks). */
const gkeDiskTypes = ["pd-balanced", "pd-standard", "pd-ssd", "hyperdisk-balanced"] as const;

/** Explains why a string is not a SPIFFE trust domain name, or returns undefined when it is one. */
export function trustDomainProblem(value: string): string | undefined {
    const allowed =
        "a SPIFFE trust domain name: lowercase letters, digits, '.', '-' and '_' only, with no scheme, port or path";
    if (value.length === 0) return `must not be empty; ${allowed}`;
    if (value.length > 255) return `is longer than 255 characters; ${allowed}`;
    if (value.includes("://")) return `has a scheme; ${allowed} (write "example.org", not "spiffe://example.org")`;
    if (value.includes("/")) return `has a path; ${allowed}`;
    if (value.includes(":")) return `has a port; ${allowed}`;
    if (/[A-Z]/.test(value)) return `has uppercase letters; ${allowed}`;
    if (!trustDomainPattern.test(value)) return `has characters outside the allowed set; ${allowed}`;
    return undefined;
}

/** Accumulates problems so that one run reports every one of them. */
class Checker {
    readonly problems: ConfigProblem[] = [];

    fail(key: string, value: unknown, allowed: string): undefined {
        this.problems.push({ key, value, allowed });
        return undefined;
    }

    /** Parses JSON carried in a config string; structured values arrive as JSON text. */
    structured(key: string, value: unknown): unknown {
        if (typeof value !== "string") return value;
        try {
            return JSON.parse(value);
        } catch {
            return this.fail(key, value, "must be structured YAML (a list or an object), not a plain string");
        }
    }

    string(key: string, value: unknown, fallback?: string): string | undefined {
        if (value === undefined || value === null || value === "") {
            return fallback === undefined ? this.fail(key, value, "is required") : fallback;
        }
        if (typeof value !== "string") return this.fail(key, value, "must be a string");
        return value;
    }

    oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[], fallback?: T): T | undefined {
        const text = this.string(key, value, fallback);
        if (text === undefined) return undefined;
        if (!(allowed as readonly string[]).includes(text)) {
            return this.fail(key, value, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`);
        }
        return text as T;
    }

    matching(key: string, value: unknown, pattern: RegExp, allowed: string, fallback?: string): string | undefined {
        const text = this.string(key, value, fallback);
        if (text === undefined) return undefined;
        if (!pattern.test(text)) return this.fail(key, value, allowed);
        return text;
    }

    integer(key: string, value: unknown, fallback: number, min: number, max: number): number | undefined {
        if (value === undefined || value === null || value === "") return fallback;
        const number = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
        if (typeof number !== "number" || !Number.isInteger(number) || number < min || number > max) {
            return this.fail(key, value, `must be a whole number from ${min} to ${max}`);
        }
        return number;
    }

    boolean(key: string, value: unknown, fallback: boolean): boolean | undefined {
        if (value === undefined || value === null || value === "") return fallback;
        if (value === true || value === "true") return true;
        if (value === false || value === "false") return false;
        return this.fail(key, value, "must be true or false");
    }

    duration(key: string, value: unknown, fallback: string, wholeHours = false): string | undefined {
        const text = this.string(key, value, fallback);
        if (text === undefined) return undefined;
        if (!isDuration(text)) {
            return this.fail(key, value, 'must be a positive duration such as "1440h", "90m" or "2h30m"');
        }
        if (wholeHours && durationSeconds(text) % 3600 !== 0) {
            return this.fail(key, value, 'must be a whole number of hours, such as "87600h"');
        }
        return text;
    }
}

function parseVersions(c: Checker, raw: RawConfig): Versions {
    const semverAllowed = "must be an exact chart version such as 1.2.3 (no ranges, no 'latest')";
    return {
        istio: c.matching("istioVersion", raw.istioVersion, semverPattern, semverAllowed, defaultVersions.istio) ?? "",
        spireChart:
            c.matching("spireChartVersion", raw.spireChartVersion, semverPattern, semverAllowed, defaultVersions.spireChart) ??
            "",
        spireCrdsChart:
            c.matching(
                "spireCrdsChartVersion",
                raw.spireCrdsChartVersion,
                semverPattern,
                semverAllowed,
                defaultVersions.spireCrdsChart,
            ) ?? "",
        certManager:
            c.matching(
                "certManagerVersion",
                raw.certManagerVersion,
                vSemverPattern,
                "must be an exact cert-manager chart version with its leading v, such as v1.21.1",
                defaultVersions.certManager,
            ) ?? "",
        kindNodeImage:
            c.matching(
                "kindNodeImage",
                raw.kindNodeImage,
                pinnedImagePattern,
                "must be an image reference with a registry path and an explicit tag, sha256 digest or both, such as kindest/node:v1.35.0 or kindest/node:v1.35.0@sha256:<64 hex digits>",
                defaultVersions.kindNodeImage,
            ) ?? "",
    };
}

function parseGke(c: Checker, path: string, value: unknown): GkeDomainSettings | undefined {
    if (value === undefined || value === null) {
        return c.fail(path, value, "is required on platform gke: an object with project and location");
    }
    if (typeof value !== "object" || Array.isArray(value)) {
        return c.fail(path, value, "must be an object with project, location, machineType, nodeCount, diskSizeGb and diskType");
    }
    const gke = value as Record<string, unknown>;
    const project = c.matching(
        `${path}.project`,
        gke.project,
        gcpProjectPattern,
        "must be a GCP project ID: 6 to 30 lowercase letters, digits or hyphens, starting with a letter",
    );
    const location = c.matching(
        `${path}.location`,
        gke.location,
        gcpLocationPattern,
        "must be a GCP region or zone such as europe-west1 or europe-west1-b",
    );
    const machineType = c.matching(
        `${path}.machineType`,
        gke.machineType,
        gcpMachineTypePattern,
        "must be a GCE machine type such as e2-standard-4",
        defaultGke.machineType,
    );
    const nodeCount = c.integer(`${path}.nodeCount`, gke.nodeCount, defaultGke.nodeCount, 1, 100);
    // GKE refuses boot disks under 10 GB; 64 TB is a persistent disk's ceiling.
    const diskSizeGb = c.integer(`${path}.diskSizeGb`, gke.diskSizeGb, defaultGke.diskSizeGb, 10, 65536);
    const diskType = c.oneOf(`${path}.diskType`, gke.diskType, gkeDiskTypes, defaultGke.diskType);
    if (
        project === undefined ||
        location === undefined ||
        machineType === undefined ||
        nodeCount === undefined ||
        diskSizeGb === undefined ||
        diskType === undefined
    ) {
        return undefined;
    }
    return { project, location, machineType, nodeCount, diskSizeGb, diskType };
}

function parseKind(c: Checker, path: string, value: unknown, defaultImage: string): KindDomainSettings | undefined {
    if (value === undefined || value === null) return { nodeImage: defaultImage };
    if (typeof value !== "object" || Array.isArray(value)) {
        return c.fail(path, value, "must be an object with nodeImage and/or context");
    }
    const kind = value as Record<string, unknown>;
    const nodeImage = c.matching(
        `${path}.nodeImage`,
        kind.nodeImage,
        pinnedImagePattern,
        "must be an image reference with an explicit tag, sha256 digest or both, such as kindest/node:v1.35.0 or kindest/node:v1.35.0@sha256:<64 hex digits>",
        defaultImage,
    );
    const context =
        kind.context === undefined
            ? undefined
            : c.matching(
                  `${path}.context`,
                  kind.context,
                  /^kind-[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/,
                  "must be a kubeconfig context that kind wrote, kind-<cluster name> (its node address is read from Docker)",
              );
    if (nodeImage === undefined) return undefined;
    return context === undefined ? { nodeImage } : { nodeImage, context };
}

function parseExisting(
    c: Checker,
    path: string,
    value: unknown,
    readContext: ParseOptions["readKubeconfigContext"],
): ExistingDomainSettings | undefined {
    if (value === undefined || value === null) {
        return c.fail(path, value, "is required on platform existing: an object with at least context");
    }
    if (typeof value !== "object" || Array.isArray(value)) {
        return c.fail(path, value, "must be an object with context and optionally kubeconfig, apiServerUrl and nodeAddress");
    }
    const existing = value as Record<string, unknown>;
    const known = ["context", "kubeconfig", "apiServerUrl", "nodeAddress"];
    for (const key of Object.keys(existing)) {
        if (!known.includes(key)) c.fail(`${path}.${key}`, existing[key], `is not a setting of an existing cluster; allowed: ${known.join(", ")}`);
    }
    const context = c.string(`${path}.context`, existing.context);
    const kubeconfigPath =
        existing.kubeconfig === undefined ? undefined : c.string(`${path}.kubeconfig`, existing.kubeconfig);
    const apiServerUrl =
        existing.apiServerUrl === undefined
            ? undefined
            : c.matching(
                  `${path}.apiServerUrl`,
                  existing.apiServerUrl,
                  httpsUrlPattern,
                  "must be the https:// URL at which peers' pods reach this cluster's API server",
              );
    const nodeAddress =
        existing.nodeAddress === undefined
            ? undefined
            : c.matching(
                  `${path}.nodeAddress`,
                  existing.nodeAddress,
                  hostPattern,
                  "must be an IP address or DNS name at which peers reach this cluster's node ports",
              );
    if (context === undefined || (existing.kubeconfig !== undefined && kubeconfigPath === undefined)) return undefined;
    if (!readContext) return c.fail(`${path}.context`, context, "cannot be read: no kubeconfig reader (a program error)");
    let read: KubeconfigContextRead;
    try {
        read = readContext(kubeconfigPath, context);
    } catch (error) {
        return c.fail(
            existing.kubeconfig === undefined ? `${path}.context` : `${path}.kubeconfig`,
            existing.kubeconfig === undefined ? context : kubeconfigPath,
            `must name a readable kubeconfig holding context "${context}": ${(error as Error).message}`,
        );
    }
    if (apiServerUrl === undefined && existing.apiServerUrl !== undefined) return undefined;
    if (nodeAddress === undefined && existing.nodeAddress !== undefined) return undefined;
    return {
        context,
        kubeconfigPath: read.path,
        kubeconfig: read.kubeconfig,
        apiServerUrl: apiServerUrl ?? read.server,
        ...(nodeAddress === undefined ? {} : { nodeAddress }),
    };
}

function parseRootCa(
    c: Checker,
    path: string,
    value: unknown,
    hasSecretKey: (key: string) => boolean,
): SuppliedRootCa | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        return c.fail(path, value, "must be an object with certificatePem and privateKeyConfigKey");
    }
    const root = value as Record<string, unknown>;
    const certificatePem = c.string(`${path}.certificatePem`, root.certificatePem);
    if (certificatePem !== undefined) {
        try {
            const certificate = new X509Certificate(certificatePem);
            if (!certificate.ca) {
                c.fail(`${path}.certificatePem`, "(certificate)", "must be a CA certificate (basicConstraints CA:TRUE)");
            }
        } catch {
            c.fail(`${path}.certificatePem`, "(unparseable)", "must be one PEM-encoded X.509 certificate");
        }
    }
    const privateKeyConfigKey = c.string(`${path}.privateKeyConfigKey`, root.privateKeyConfigKey);
    if (privateKeyConfigKey !== undefined && !hasSecretKey(privateKeyConfigKey)) {
        c.fail(
            `${path}.privateKeyConfigKey`,
            privateKeyConfigKey,
            `must name a secret config key holding the root's PEM private key (set it with: pulumi config set --secret ${privateKeyConfigKey} < key.pem)`,
        );
    }
    if (certificatePem === undefined || privateKeyConfigKey === undefined) return undefined;
    return { certificatePem, privateKeyConfigKey };
}

function findDuplicates(c: Checker, domains: DomainConfig[], field: "name" | "trustDomain" | "network"): void {
    const seen = new Map<string, number>();
    domains.forEach((domain, index) => {
        const first = seen.get(domain[field]);
        if (first !== undefined) {
            c.fail(
                `domains[${index}].${field}`,
                domain[field],
                `must be unique across domains; domains[${first}].${field} already uses it`,
            );
        } else {
            seen.set(domain[field], index);
        }
    });
}

function parseDomains(
    c: Checker,
    rawDomains: unknown,
    platform: Platform | undefined,
    versions: Versions,
    options: Required<Pick<ParseOptions, "hasSecretKey">> & ParseOptions,
): DomainConfig[] {
    const value = c.structured("domains", rawDomains);
    if (value === undefined || value === null) {
        c.fail("domains", value, "is required: a list of at least two domains (name, trustDomain, network)");
        return [];
    }
    if (!Array.isArray(value)) {
        c.fail("domains", value, "must be a list of domains");
        return [];
    }
    if (value.length < 2) {
        c.fail("domains", `${value.length} domain(s)`, "must list at least two domains: federation needs a peer");
    }
    const domains: DomainConfig[] = [];
    value.forEach((entry: unknown, index: number) => {
        const path = `domains[${index}]`;
        if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
            c.fail(path, entry, "must be an object with name, trustDomain and network");
            return;
        }
        const raw = entry as Record<string, unknown>;
        const known = ["name", "trustDomain", "network", "gke", "kind", "existing", "rootCa", "rootCaGeneration"];
        for (const key of Object.keys(raw)) {
            if (!known.includes(key)) c.fail(`${path}.${key}`, raw[key], `is not a domain setting; allowed: ${known.join(", ")}`);
        }
        const name = c.matching(
            `${path}.name`,
            raw.name,
            dnsLabelPattern,
            "must be a cluster name of at most 40 lowercase letters, digits and '-', starting with a letter",
        );
        if (name !== undefined && name.length > 40) {
            c.fail(`${path}.name`, name, "must be at most 40 characters (GKE's limit on cluster names)");
        }
        const trustDomainText = c.string(`${path}.trustDomain`, raw.trustDomain);
        const trustDomainIssue = trustDomainText === undefined ? undefined : trustDomainProblem(trustDomainText);
        if (trustDomainIssue !== undefined) c.fail(`${path}.trustDomain`, trustDomainText, trustDomainIssue);
        const network = c.matching(
            `${path}.network`,
            raw.network,
            networkPattern,
            "must be an Istio network name: lowercase letters, digits, '-', '.' and '_'",
        );
        const gke = platform === "gke" ? parseGke(c, `${path}.gke`, raw.gke) : undefined;
        const kind = platform === "kind" ? parseKind(c, `${path}.kind`, raw.kind, versions.kindNodeImage) : undefined;
        const existing =
            platform === "existing" ? parseExisting(c, `${path}.existing`, raw.existing, options.readKubeconfigContext) : undefined;
        const rootCa = raw.rootCa === undefined ? undefined : parseRootCa(c, `${path}.rootCa`, raw.rootCa, options.hasSecretKey);
        const rootCaGeneration = c.integer(`${path}.rootCaGeneration`, raw.rootCaGeneration, 1, 1, 1000000);
        if (
            name === undefined ||
            trustDomainText === undefined ||
            trustDomainIssue !== undefined ||
            network === undefined ||
            rootCaGeneration === undefined
        ) {
            return;
        }
        domains.push({
            name,
            trustDomain: trustDomainText,
            network,
            ...(gke ? { gke } : {}),
            ...(kind ? { kind } : {}),
            ...(existing ? { existing } : {}),
            ...(rootCa ? { rootCa } : {}),
            rootCaGeneration,
        });
    });
    if (domains.length === value.length) {
        findDuplicates(c, domains, "name");
        findDuplicates(c, domains, "trustDomain");
        findDuplicates(c, domains, "network");
        const clusterOwners = new Map<string, number>();
        domains.forEach((domain, index) => {
            if (!domain.existing) return;
            const first = clusterOwners.get(domain.existing.apiServerUrl);
            if (first === undefined) clusterOwners.set(domain.existing.apiServerUrl, index);
            else {
                c.fail(
                    `domains[${index}].existing`,
                    domain.existing.apiServerUrl,
                    `must reach a cluster of its own; domains[${first}] already uses that API server (one trust domain per cluster)`,
                );
            }
        });
    }
    return domains;
}

/** A Helm repository URL: Helm's classic repositories are served over http or https. */
const chartRepositoryPattern = /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/;

function parseChartRepositories(c: Checker, raw: unknown): ChartRepositories {
    const value = c.structured("chartRepositories", raw);
    const repositories: ChartRepositories = { ...publicChartRepositories };
    if (value === undefined || value === null || value === "") return repositories;
    const sources = Object.keys(publicChartRepositories) as (keyof ChartRepositories)[];
    if (typeof value !== "object" || Array.isArray(value)) {
        c.fail("chartRepositories", value, `must be an object mapping chart sources (${sources.join(", ")}) to repository URLs`);
        return repositories;
    }
    for (const [source, url] of Object.entries(value as Record<string, unknown>)) {
        const key = `chartRepositories.${source}`;
        if (!(sources as string[]).includes(source)) {
            c.fail(key, url, `is not a chart source; allowed: ${sources.join(", ")}`);
            continue;
        }
        const checked = c.matching(key, url, chartRepositoryPattern, "must be the http:// or https:// URL of a Helm chart repository (the folder holding index.yaml)");
        if (checked !== undefined) repositories[source as keyof ChartRepositories] = checked;
    }
    return repositories;
}

function parseSourceRanges(c: Checker, key: "loadBalancerSourceRanges" | "peerSourceRanges", raw: unknown): string[] {
    const value = c.structured(key, raw);
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
        c.fail(key, value, "must be a list of CIDRs such as 203.0.113.0/24");
        return [];
    }
    return value.filter((cidr: unknown, index: number) => {
        if (typeof cidr === "string" && cidrPattern.test(cidr)) return true;
        c.fail(`${key}[${index}]`, cidr, "must be a CIDR such as 203.0.113.0/24");
        return false;
    }) as string[];
}

/**
 * Turns raw stack config into the typed model, or throws one ConfigError naming every bad key,
 * its value and what is allowed. Called before any resource is declared.
 */
export function parseMeshConfig(raw: RawConfig, options: ParseOptions = {}): MeshConfig {
    const c = new Checker();
    const hasSecretKey = options.hasSecretKey ?? (() => false);

    const meshId = c.matching(
        "meshId",
        raw.meshId,
        dnsLabelPattern,
        "must be lowercase letters, digits and '-', starting with a letter",
        configKeys.meshId.default,
    );
    const platform = c.oneOf("platform", raw.platform, platforms);
    const defaultExposure: Exposure = platform === "kind" ? "NodePort" : "LoadBalancer";
    const exposure = c.oneOf("exposure", raw.exposure, exposures, defaultExposure);
    const versions = parseVersions(c, raw);

    const rootCaValidity = c.duration("rootCaValidity", raw.rootCaValidity, configKeys.rootCaValidity.default, true);
    const istiodCertDuration = c.duration(
        "istiodCertDuration",
        raw.istiodCertDuration,
        configKeys.istiodCertDuration.default,
    );
    const istiodCertRenewBefore = c.duration(
        "istiodCertRenewBefore",
        raw.istiodCertRenewBefore,
        configKeys.istiodCertRenewBefore.default,
    );
    if (
        istiodCertDuration !== undefined &&
        istiodCertRenewBefore !== undefined &&
        durationSeconds(istiodCertRenewBefore) >= durationSeconds(istiodCertDuration)
    ) {
        c.fail("istiodCertRenewBefore", istiodCertRenewBefore, `must be shorter than istiodCertDuration (${istiodCertDuration})`);
    }
    if (
        rootCaValidity !== undefined &&
        istiodCertDuration !== undefined &&
        durationSeconds(istiodCertDuration) >= durationSeconds(rootCaValidity)
    ) {
        c.fail("istiodCertDuration", istiodCertDuration, `must be shorter than rootCaValidity (${rootCaValidity})`);
    }

    const { min, max } = nodePortRange;
    const nodePorts = {
        bundleEndpoint: c.integer("bundleEndpointNodePort", raw.bundleEndpointNodePort, configKeys.bundleEndpointNodePort.default, min, max),
        eastWest: c.integer("eastWestNodePort", raw.eastWestNodePort, configKeys.eastWestNodePort.default, min, max),
        ingressHttp: c.integer("ingressHttpNodePort", raw.ingressHttpNodePort, configKeys.ingressHttpNodePort.default, min, max),
    };
    const portKeys = { bundleEndpoint: "bundleEndpointNodePort", eastWest: "eastWestNodePort", ingressHttp: "ingressHttpNodePort" };
    const usedPorts = new Map<number, string>();
    for (const [field, port] of Object.entries(nodePorts)) {
        if (port === undefined) continue;
        const key = portKeys[field as keyof typeof portKeys];
        const other = usedPorts.get(port);
        if (other !== undefined) c.fail(key, port, `must differ from ${other}: one node port serves one Service port`);
        usedPorts.set(port, key);
    }

    const deletionProtection = c.boolean("gkeDeletionProtection", raw.gkeDeletionProtection, configKeys.gkeDeletionProtection.default);
    const releaseChannel = c.oneOf("gkeReleaseChannel", raw.gkeReleaseChannel, releaseChannels, configKeys.gkeReleaseChannel.default);
    const loadBalancerSourceRanges = parseSourceRanges(c, "loadBalancerSourceRanges", raw.loadBalancerSourceRanges);
    const peerSourceRanges = parseSourceRanges(c, "peerSourceRanges", raw.peerSourceRanges);
    const samplesEnabled = c.boolean("samplesEnabled", raw.samplesEnabled, configKeys.samplesEnabled.default);
    const chartRepositories = parseChartRepositories(c, raw.chartRepositories);
    const domains = parseDomains(c, raw.domains, platform, versions, { ...options, hasSecretKey });

    if (platform === "gke" && exposure === "NodePort") {
        c.fail("exposure", exposure, 'must be "LoadBalancer" on platform gke: GKE nodes are not reachable across clusters on node ports');
    }
    if (c.problems.length > 0) throw new ConfigError(c.problems);
    // Every field below was checked; a problem would have thrown above.
    return {
        meshId: meshId!,
        platform: platform!,
        exposure: exposure!,
        domains,
        versions,
        chartRepositories,
        certificates: {
            rootCaValidity: rootCaValidity!,
            istiodCertDuration: istiodCertDuration!,
            istiodCertRenewBefore: istiodCertRenewBefore!,
        },
        nodePorts: {
            bundleEndpoint: nodePorts.bundleEndpoint!,
            eastWest: nodePorts.eastWest!,
            ingressHttp: nodePorts.ingressHttp!,
        },
        gke: { deletionProtection: deletionProtection!, releaseChannel: releaseChannel! },
        loadBalancerSourceRanges,
        peerSourceRanges,
        samplesEnabled: samplesEnabled!,
    };
}
