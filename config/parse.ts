import { z } from "zod";
import { durationSeconds } from "./durations";
import { ConfigError, ConfigProblem } from "./errors";
import { ConfigKey } from "./keys";
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

/** Checks that relate several keys; each runs only when the keys it reads were valid. */
function crossKeyProblems(checks: KeyChecks, values: Scalars, domains: DomainConfig[] | undefined): void {
    const { rootCaValidity, istiodCertDuration, istiodCertRenewBefore } = values;
    if (istiodCertDuration !== undefined && istiodCertRenewBefore !== undefined && durationSeconds(istiodCertRenewBefore) >= durationSeconds(istiodCertDuration)) {
        checks.fail("istiodCertRenewBefore", istiodCertRenewBefore, `must be shorter than istiodCertDuration (${istiodCertDuration})`);
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
    const clusterOwners = new Map<string, number>();
    domains.forEach((domain, index) => {
        if (!domain.existing) return;
        const first = clusterOwners.get(domain.existing.apiServerUrl);
        if (first === undefined) clusterOwners.set(domain.existing.apiServerUrl, index);
        else {
            checks.fail(
                `domains[${index}].existing`,
                domain.existing.apiServerUrl,
                `must reach a cluster of its own; domains[${first}] already uses that API server (one trust domain per cluster)`,
            );
        }
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
    crossKeyProblems(checks, { ...values, exposure }, domains);
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
        certificates: {
            rootCaValidity: v.rootCaValidity,
            istiodCertDuration: v.istiodCertDuration,
            istiodCertRenewBefore: v.istiodCertRenewBefore,
        },
        nodePorts: { bundleEndpoint: v.bundleEndpointNodePort, eastWest: v.eastWestNodePort, ingressHttp: v.ingressHttpNodePort },
        gke: { deletionProtection: v.gkeDeletionProtection, releaseChannel: v.gkeReleaseChannel },
        loadBalancerSourceRanges: v.loadBalancerSourceRanges,
        peerSourceRanges: v.peerSourceRanges,
        samplesEnabled: v.samplesEnabled,
        peerStacks: v.peerStacks,
        exportAdminKubeconfigs: v.exportAdminKubeconfigs,
        removeCrdsOnDestroy: v.removeCrdsOnDestroy,
        peerStacksAllowedToGo: v.peerStacksAllowedToGo,
    };
}
