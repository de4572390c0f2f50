/**
 * What the test bed reads from the real engine: its state (`pulumi stack export`) and the events
 * of an operation. Pure functions, so that `npm test` checks them on made-up states.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation";

/** A resource as the engine's state holds it (`pulumi stack export`). */
export interface StateResource {
    urn: string;
    id?: string;
    type: string;
    custom: boolean;
    provider?: string;
    /** URN of the parent resource (a component, or the stack). */
    parent?: string;
    dependencies?: string[];
    inputs?: { chart?: string };
    outputs?: Record<string, unknown>;
}

/**
 * A resource's recorded dependencies, with a dependency on a component standing for everything
 * under it: the engine records a dependency on a remote component (cert-manager's) as the
 * component's URN, and finishes registering that component only once the children its plugin
 * created are done (the plugin's Construct returns after them), so whatever depends on it waited
 * for them too.
 */
function dependenciesOf(resource: StateResource | undefined, byUrn: Map<string, StateResource>, childrenOf: Map<string, string[]>): string[] {
    const expanded: string[] = [];
    const queue = [...(resource?.dependencies ?? [])];
    const seen = new Set<string>();
    while (queue.length > 0) {
        const urn = queue.shift()!;
        if (seen.has(urn)) continue;
        seen.add(urn);
        expanded.push(urn);
        if (byUrn.get(urn)?.custom === false) queue.push(...(childrenOf.get(urn) ?? []));
    }
    return expanded;
}

function childrenByParent(resources: StateResource[]): Map<string, string[]> {
    const children = new Map<string, string[]>();
    for (const resource of resources) {
        if (resource.parent !== undefined) children.set(resource.parent, [...(children.get(resource.parent) ?? []), resource.urn]);
    }
    return children;
}

/** API group of a custom resource kind -> the chart whose release installs its CRD. */
export const crdCharts: Record<string, string> = {
    "cert-manager.io": "cert-manager",
    "spire.spiffe.io": "spire-crds",
    "networking.istio.io": "base",
    "security.istio.io": "base",
    "telemetry.istio.io": "base",
};

/**
 * Custom resources (cert-manager, SPIRE, Istio kinds) that do not wait, through their recorded
 * dependencies, for the release installing their CRD on the same cluster (the same provider).
 * The provider retries a kind it does not know for about a minute (pulumi-kubernetes
 * `pkg/await/await.go` and `pkg/retry/retry.go`: 6 tries, from 1 s doubling), so a missing
 * dependency only fails `up` when the CRD comes later than that, as on a real cluster pulling
 * images; the graph shows it every time.
 */
export function crdOrderProblems(resources: StateResource[]): { checked: number; problems: string[] } {
    const byUrn = new Map(resources.map((resource) => [resource.urn, resource]));
    const childrenOf = childrenByParent(resources);
    const releases = resources.filter((resource) => resource.type === "kubernetes:helm.sh/v3:Release");
    const ancestors = (urn: string): Set<string> => {
        const seen = new Set<string>();
        const queue = dependenciesOf(byUrn.get(urn), byUrn, childrenOf);
        while (queue.length > 0) {
            const next = queue.pop()!;
            if (seen.has(next)) continue;
            seen.add(next);
            queue.push(...dependenciesOf(byUrn.get(next), byUrn, childrenOf));
        }
        return seen;
    };
    const problems: string[] = [];
    let checked = 0;
    for (const resource of resources) {
        const group = /^kubernetes:([^/]+)\/[^:]+:/.exec(resource.type)?.[1];
        const chart = group === undefined ? undefined : crdCharts[group];
        if (chart === undefined) continue;
        checked++;
        const release = releases.find((candidate) => candidate.inputs?.chart === chart && candidate.provider === resource.provider);
        if (release === undefined) {
            problems.push(`${resource.urn}: no release of chart ${chart} on its cluster's provider`);
        } else if (!ancestors(resource.urn).has(release.urn)) {
            problems.push(`${resource.urn.split("::").pop()} (${resource.type.split(":").slice(1).join(":")}) does not depend on ${release.urn.split("::").pop()} (chart ${chart}, which installs its CRD)`);
        }
    }
    return { checked, problems };
}

/** The URN of a resource's provider, as a list (empty when it has none); a reference is `URN::ID`. */
function providerOf(resource: StateResource | undefined): string[] {
    if (resource?.provider === undefined) return [];
    return [resource.provider.slice(0, resource.provider.lastIndexOf("::"))];
}

/** What a resource waited for: its recorded dependencies and its provider. */
export function waitsFor(resource: StateResource | undefined): string[] {
    if (resource === undefined) return [];
    return [...(resource.dependencies ?? []), ...providerOf(resource)];
}

/**
 * The longest chain of custom resources (providers included, components not: a dependency on one
 * counts as one on everything under it) in the engine's recorded dependencies: what `up` must create one after another, counted as the plan counts it
 * (docs/performance.md).
 */
export function longestChain(resources: StateResource[]): string[] {
    const byUrn = new Map(resources.map((resource) => [resource.urn, resource]));
    const childrenOf = childrenByParent(resources);
    const custom = new Map(resources.filter((resource) => resource.custom).map((resource) => [resource.urn, resource]));
    const memo = new Map<string, string[]>();
    const chainTo = (urn: string): string[] => {
        const known = memo.get(urn);
        if (known !== undefined) return known;
        let best: string[] = [];
        const resource = custom.get(urn);
        for (const dependency of [...dependenciesOf(resource, byUrn, childrenOf), ...providerOf(resource)]) {
            if (!custom.has(dependency)) continue;
            const candidate = chainTo(dependency);
            if (candidate.length > best.length) best = candidate;
        }
        const chain = [...best, urn];
        memo.set(urn, chain);
        return chain;
    };
    let longest: string[] = [];
    for (const urn of custom.keys()) {
        const chain = chainTo(urn);
        if (chain.length > longest.length) longest = chain;
    }
    return longest.map((urn) => urn.split("::").pop()!);
}

/**
 * The path the engine actually waited on, from its events: start at the resource that finished
 * last and step back each time to the dependency that finished last. Event timestamps are whole
 * seconds.
 */
export function criticalPath(resources: StateResource[], events: EngineEvent[]): string[] {
    const started = new Map<string, number>();
    const finished = new Map<string, number>();
    for (const event of events) {
        const pre = event.resourcePreEvent?.metadata;
        if (pre !== undefined && !started.has(pre.urn)) started.set(pre.urn, event.timestamp);
        const out = event.resOutputsEvent?.metadata;
        if (out !== undefined) finished.set(out.urn, event.timestamp);
    }
    const byUrn = new Map(resources.map((resource) => [resource.urn, resource]));
    const latest = (urns: string[]) => urns.filter((urn) => finished.has(urn) && byUrn.get(urn)?.custom).sort((a, b) => finished.get(b)! - finished.get(a)!)[0];
    const path: string[] = [];
    const t0 = Math.min(...started.values());
    for (let urn = latest([...finished.keys()]); urn !== undefined; urn = latest(waitsFor(byUrn.get(urn)))) {
        path.unshift(`${urn.split("::").pop()} (${started.get(urn)! - t0}-${finished.get(urn)! - t0}s)`);
    }
    return path;
}

/** What the provider said while waiting (its "Retry #N; creation failed" status lines), counted for the evidence. */
export function providerRetries(events: EngineEvent[]): string[] {
    return events
        .map((event) => event.diagnosticEvent?.message ?? "")
        .filter((message) => /Retry #\d+; creation failed/.test(message))
        .map((message) => message.trim());
}

/** The URNs of an operation's steps by op, from the engine's events (`same` and `read` left out). */
export function stepsByOp(events: EngineEvent[]): Map<string, string[]> {
    const byOp = new Map<string, string[]>();
    for (const event of events) {
        const step = event.resourcePreEvent?.metadata;
        if (step === undefined || step.op === "same" || step.op === "read") continue;
        byOp.set(step.op, [...(byOp.get(step.op) ?? []), step.urn]);
    }
    return byOp;
}

