import { z } from "zod";
import { durationSeconds } from "./durations";
import { ConfigError, ConfigProblem } from "./errors";
import { intermediateCaEarlyRenewalHours } from "../lib/rootCa";
import { ConfigKey } from "./keys";
import { ChartSource, chartRepositories as publicChartRepositories } from "../versions";
import { DomainConfig, Exposure, MeshConfig } from "./model";
import { domainsSchema, ParseOptions, scalarKeySchemas } from "./schema";

export type { KubeconfigContextRead, ParseOptions } from "./schema";
export { trustDomainProblem } from "./schema";

/**
 * Raw stack config as Pulumi hands it over: strings (config values are strings on the wire, JSON
 * for structured ones) or, from tests, the already-parsed values.
 */
export type RawConfig = Partial<Record<ConfigKey, unknown>>;

/** `domains[1].gke.project` from zod's path `["domains", 1, "gke", "project"]` under `key`. */
function keyPath(key: string, path: readonly PropertyKey[]): string {
    return path.reduce<string>((text, part) => (typeof part === "number" ? `${text}[${part}]` : `${text}.${String(part)}`), key);
}

/** One zod issue as the problems a user reads: an unknown-keys issue names each unknown key. */
function problemsOf(key: string, issue: z.core.$ZodIssue): ConfigProblem[] {
    const input = (issue as { input?: unknown }).input;
    if (issue.code === "unrecognized_keys") {
        const object = (input ?? {}) as Record<string, unknown>;
        return issue.keys.map((unknown) => ({ key: keyPath(key, [...issue.path, unknown]), value: object[unknown], allowed: issue.message }));
    }
    return [{ key: keyPath(key, issue.path), value: input, allowed: issue.message }];
}

/** Checks each key on its own, so one run reports the problems of every key together. */
class KeyChecks {
    readonly problems: ConfigProblem[] = [];

    check<T extends z.ZodType>(key: string, schema: T, value: unknown): z.output<T> | undefined {
        const result = schema.safeParse(value, { reportInput: true });
        if (result.success) return result.data;
        for (const issue of result.error.issues) this.problems.push(...problemsOf(key, issue));
        return undefined;
    }

    fail(key: string, value: unknown, allowed: string): void {
        this.problems.push({ key, value, allowed });
    }
}

type Scalars = { [K in keyof typeof scalarKeySchemas]: z.output<(typeof scalarKeySchemas)[K]> | undefined };

/**
 * The API server a URL reaches, written one way: lowercase scheme and host, the port always
 * given (443 when https leaves it out), no trailing `/`. Two domains whose URLs differ only in
 * how they are written reach the same cluster.
 */
export function normalizedApiServer(url: string): string {
    try {
        const parsed = new URL(url);
        const port = parsed.port || (parsed.protocol === "http:" ? "80" : "443");
        return `${parsed.protocol}//${parsed.hostname}:${port}${parsed.pathname.replace(/\/+$/, "")}`;
    } catch {
        return url.trim().replace(/\/+$/, "").toLowerCase();
    }
}

/** Checks of the chart mirrors against plaintext and credentials; they read three keys. */
function chartRepositoryProblems(checks: KeyChecks, values: Scalars, hasSecretKey: (key: string) => boolean): void {
    const repositories = values.chartRepositories;
    if (repositories === undefined) return;
    const mirrored = (source: ChartSource) => repositories[source] !== publicChartRepositories[source];
    if (values.allowPlaintextChartRepositories === false) {
        for (const source of Object.keys(repositories) as ChartSource[]) {
            if (repositories[source].toLowerCase().startsWith("http://")) {
                checks.fail(
                    `chartRepositories.${source}`,
                    repositories[source],
                    "must be an https:// URL: over plain http anyone on the network path can swap the charts; set allowPlaintextChartRepositories: true only for a mirror on a trusted network such as loopback",
                );
            }
        }
    }
    for (const [source, credential] of Object.entries(values.chartRepositoryCredentials ?? {})) {
        const key = `chartRepositoryCredentials.${source}`;
        if (!(source in publicChartRepositories)) {
            checks.fail(key, credential, `is not a chart source; allowed: ${Object.keys(publicChartRepositories).join(", ")}`);
            continue;
        }
        const url = repositories[source as ChartSource];
        if (!mirrored(source as ChartSource)) {
            checks.fail(key, credential, `must name a source mirrored in chartRepositories: ${source} installs from the public ${url}, which takes no credentials`);
        } else if (!url.toLowerCase().startsWith("https://")) {
            checks.fail(key, credential, `must belong to an https:// mirror: chartRepositories.${source} is ${url}, which would send the password in clear`);
        }
        if (!hasSecretKey(credential.passwordConfigKey)) {
            checks.fail(
                `${key}.passwordConfigKey`,
                credential.passwordConfigKey,
                `must name a secret config key holding the repository's password (set it with: pulumi config set --secret ${credential.passwordConfigKey})`,
            );
        }
    }
}

/** Checks that relate several keys; each runs only when the keys it reads were valid. */
function crossKeyProblems(checks: KeyChecks, values: Scalars, domains: DomainConfig[] | undefined, options: ParseOptions): void {
    const { rootCaValidity, istiodCertDuration, istiodCertRenewBefore } = values;
    if (istiodCertDuration !== undefined && istiodCertRenewBefore !== undefined && durationSeconds(istiodCertRenewBefore) >= durationSeconds(istiodCertDuration)) {
        checks.fail("istiodCertRenewBefore", istiodCertRenewBefore, `must be shorter than istiodCertDuration (${istiodCertDuration})`);
    }
    if (istiodCertDuration !== undefined && durationSeconds(istiodCertDuration) > intermediateCaEarlyRenewalHours * 3600) {
        checks.fail(
            "istiodCertDuration",
            istiodCertDuration,
            `must be at most ${intermediateCaEarlyRenewalHours}h: the intermediate that signs cacerts is replaced that long before it expires, and a cacerts must not outlive it`,
        );
    }
    if (rootCaValidity !== undefined && istiodCertDuration !== undefined && durationSeconds(istiodCertDuration) >= durationSeconds(rootCaValidity)) {
        checks.fail("istiodCertDuration", istiodCertDuration, `must be shorter than rootCaValidity (${rootCaValidity})`);
    }

    const usedPorts = new Map<number, string>();
    for (const key of ["bundleEndpointNodePort", "eastWestNodePort", "ingressHttpNodePort"] as const) {
        const port = values[key];
        if (port === undefined) continue;
        const other = usedPorts.get(port);
        if (other !== undefined) checks.fail(key, port, `must differ from ${other}: one node port serves one Service port`);
        usedPorts.set(port, key);
    }

    if (values.platform === "gke" && values.exposure === "NodePort") {
        checks.fail("exposure", "NodePort", 'must be "LoadBalancer" on platform gke: GKE nodes are not reachable across clusters on node ports');
    }
    // Kubernetes accepts loadBalancerSourceRanges only on LoadBalancer Services, and a NodePort
    // Service has no field that restricts its sources: ranges here would restrict nothing.
    if (values.exposure === "NodePort") {
        for (const key of ["loadBalancerSourceRanges", "peerSourceRanges"] as const) {
            const ranges = values[key];
            if (ranges !== undefined && ranges.length > 0) {
                checks.fail(
                    key,
                    ranges,
                    "must be empty with exposure NodePort: only a LoadBalancer Service takes source ranges, so node ports would stay open to every address; restrict them in the nodes' firewall, or use exposure LoadBalancer",
                );
            }
        }
    }
    const authorizedNetworks = values.gkeMasterAuthorizedNetworks;
    if (authorizedNetworks !== undefined && authorizedNetworks.length > 0 && values.platform !== undefined && values.platform !== "gke") {
        checks.fail(
            "gkeMasterAuthorizedNetworks",
            authorizedNetworks,
            `must be empty on platform ${values.platform}: it restricts GKE clusters the program creates; restrict the API server of other clusters where they are run`,
        );
    }
    chartRepositoryProblems(checks, values, options.hasSecretKey ?? (() => false));

    const peerStacks = values.peerStacks ?? [];
    const stackOwners = new Map<string, number>();
    const peerTrustDomains = new Map<string, string>();
    peerStacks.forEach((peer, index) => {
        const first = stackOwners.get(peer.stack);
        if (first !== undefined) checks.fail(`peerStacks[${index}].stack`, peer.stack, `must be listed once; peerStacks[${first}] already names it`);
        else stackOwners.set(peer.stack, index);
        peer.trustDomains.forEach((trustDomain, position) => {
            const key = `peerStacks[${index}].trustDomains[${position}]`;
            const owner = peerTrustDomains.get(trustDomain);
            if (owner !== undefined) checks.fail(key, trustDomain, `must belong to one peer; ${owner} already lists it`);
            else peerTrustDomains.set(trustDomain, key);
            const local = domains?.findIndex((domain) => domain.trustDomain === trustDomain) ?? -1;
            if (local >= 0) checks.fail(key, trustDomain, `must be another stack's trust domain; domains[${local}] deploys it here`);
        });
    });

    if (!domains) return;
    for (const field of ["name", "trustDomain", "network"] as const) {
        const seen = new Map<string, number>();
        domains.forEach((domain, index) => {
            const first = seen.get(domain[field]);
            if (first === undefined) seen.set(domain[field], index);
            else checks.fail(`domains[${index}].${field}`, domain[field], `must be unique across domains; domains[${first}].${field} already uses it`);
        });
    }
    // One cluster per domain, judged by where each context really points (however it is written)
    // and by the address peers are told: either shared means two domains on one API server.
    const clusterOwners = new Map<string, number>();
    domains.forEach((domain, index) => {
        if (!domain.existing) return;
        const servers = new Set([normalizedApiServer(domain.existing.contextServer), normalizedApiServer(domain.existing.apiServerUrl)]);
        const first = [...servers].map((server) => clusterOwners.get(server)).find((owner) => owner !== undefined);
        if (first !== undefined) {
            checks.fail(
                `domains[${index}].existing`,
                domain.existing.apiServerUrl === domain.existing.contextServer
                    ? domain.existing.contextServer
                    : { context: domain.existing.context, server: domain.existing.contextServer, apiServerUrl: domain.existing.apiServerUrl },
                `must reach a cluster of its own; domains[${first}] already uses that API server (one trust domain per cluster)`,
            );
            return;
        }
        for (const server of servers) clusterOwners.set(server, index);
    });
    const kindContexts = new Map<string, number>();
    domains.forEach((domain, index) => {
        const context = domain.kind?.context;
        if (context === undefined) return;
        const first = kindContexts.get(context);
        if (first === undefined) kindContexts.set(context, index);
        else checks.fail(`domains[${index}].kind.context`, context, `must reach a cluster of its own; domains[${first}].kind.context already names it (one trust domain per cluster)`);
    });
}

/**
 * Turns raw stack config into the typed model, or throws one ConfigError naming every bad key,
 * its value and what is allowed. Called before any resource is declared.
 */
export function parseMeshConfig(raw: RawConfig, options: ParseOptions = {}): MeshConfig {
    const checks = new KeyChecks();
    const values = Object.fromEntries(
        Object.entries(scalarKeySchemas).map(([key, schema]) => [key, checks.check(key, schema, raw[key as ConfigKey])]),
    ) as Scalars;
    const platform = values.platform;
    // Unparseable peer stacks still say the stack means to have peers: no second problem about its domain count.
    const withPeerStacks = values.peerStacks === undefined || values.peerStacks.length > 0;
    const parsedDomains = checks.check(
        "domains",
        domainsSchema(platform, { ...options, hasSecretKey: options.hasSecretKey ?? (() => false) }, withPeerStacks),
        raw.domains,
    );
    const exposure: Exposure | undefined = values.exposure ?? (platform === "kind" ? "NodePort" : "LoadBalancer");
    const kindNodeImage = values.kindNodeImage;
    const domains = parsedDomains?.map(
        ({ gke, kind, existing, rootCa, ...domain }): DomainConfig => ({
            ...domain,
            ...(gke ? { gke } : {}),
            ...(platform === "kind" && kindNodeImage !== undefined
                ? { kind: { nodeImage: kind?.nodeImage ?? kindNodeImage, ...(kind?.context ? { context: kind.context } : {}) } }
                : {}),
            ...(existing ? { existing } : {}),
            ...(rootCa ? { rootCa } : {}),
        }),
    );
    crossKeyProblems(checks, { ...values, exposure }, domains, options);
    if (checks.problems.length > 0) throw new ConfigError(checks.problems);

    // Every value below was checked; a problem would have thrown above.
    const v = values as { [K in keyof Scalars]: NonNullable<Scalars[K]> };
    return {
        meshId: v.meshId,
        platform: v.platform,
        exposure: exposure!,
        domains: domains!,
        versions: {
            istio: v.istioVersion,
            spireChart: v.spireChartVersion,
            spireCrdsChart: v.spireCrdsChartVersion,
            certManager: v.certManagerVersion,
            kindNodeImage: v.kindNodeImage,
        },
        chartRepositories: v.chartRepositories,
        chartRepositoryCredentials: v.chartRepositoryCredentials,
        certificates: {
            rootCaValidity: v.rootCaValidity,
            istiodCertDuration: v.istiodCertDuration,
            istiodCertRenewBefore: v.istiodCertRenewBefore,
        },
        nodePorts: { bundleEndpoint: v.bundleEndpointNodePort, eastWest: v.eastWestNodePort, ingressHttp: v.ingressHttpNodePort },
        gke: { deletionProtection: v.gkeDeletionProtection, releaseChannel: v.gkeReleaseChannel, masterAuthorizedNetworks: v.gkeMasterAuthorizedNetworks },
        loadBalancerSourceRanges: v.loadBalancerSourceRanges,
        peerSourceRanges: v.peerSourceRanges,
        samplesEnabled: v.samplesEnabled,
        peerStacks: v.peerStacks,
        // Unset: a stack that peers read keeps its admin credentials out of its outputs.
        exportAdminKubeconfigs: values.exportAdminKubeconfigs ?? v.peerStacks.length === 0,
    };
}
