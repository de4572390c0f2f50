import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import * as pulumi from "@pulumi/pulumi";
import program from "../../index";
import { evaluatePolicies, fromDeclared, fromStackOutputs, PlainResource, PolicyPackConfig, PolicyViolation } from "../../policy-pack/evaluate";
import { UNKNOWN } from "../../policy-pack/lib/values";
import { DeclaredResource, isKnown, isSecretOutput, resolvePlain, runProgram } from "../../tests/harness/program";
import { StackName } from "../../tests/harness/stacks";
import { longestDependencyChain } from "./graph";

export interface PlanOptions {
    /** The stack's name; its config comes from `Pulumi.<stack>.yaml` in the project unless `stackConfig` is given. */
    stack: StackName | string;
    /** A stack file's whole `config:` block (namespaced keys, `secure:` values already replaced). */
    stackConfig?: Record<string, unknown>;
    /** Namespaced keys of `stackConfig` that are secrets. */
    secretKeys?: string[];
    /** Replaces the stack file's project config (keys without the project prefix). */
    projectConfig?: Record<string, unknown>;
    /** Policy config, as `pulumi preview --policy-pack-config` takes it. */
    policyConfig?: PolicyPackConfig;
    /** Plan as a preview (values of new resources unknown) instead of an update. */
    preview?: boolean;
}

export interface Plan {
    stack: StackName | string;
    resources: DeclaredResource[];
    /** The root stack resource with the stack outputs, as the engine shows it to stack policies. */
    rootStack: PlainResource;
    /** Resource counts keyed by cluster (by Kubernetes provider), with `cloud` for the rest. */
    perCluster: Record<string, DeclaredResource[]>;
    violations: PolicyViolation[];
    mandatory: PolicyViolation[];
    /** URNs of the longest chain of resources a deploy must create one after another. */
    longestChain: string[];
}

/** The cluster a resource lives in: its Kubernetes provider's name, else `cloud`. */
function clusterOf(resource: DeclaredResource): string {
    // A remote component (cert-manager's) names its Kubernetes provider in its providers map.
    const provider = resource.provider || resource.providers.kubernetes || "";
    if (provider.includes("pulumi:providers:kubernetes::")) return provider.split("::").pop()!;
    return "cloud";
}

/**
 * The stack outputs as the engine registers them on the root stack resource: each resolved, or
 * UNKNOWN when a preview does not know it, with the names of those that are secrets.
 */
export async function resolveStackOutputs(outputs: Record<string, unknown>): Promise<{ outputs: Record<string, unknown>; secretOutputs: string[] }> {
    const resolved: Record<string, unknown> = {};
    const secretOutputs: string[] = [];
    for (const [name, value] of Object.entries(outputs)) {
        const output = pulumi.output(value);
        resolved[name] = (await isKnown(output)) ? await resolvePlain(output) : UNKNOWN;
        if (await isSecretOutput(output)) secretOutputs.push(name);
    }
    return { outputs: resolved, secretOutputs };
}

/**
 * Runs the real program (index.ts, as the CLI would) under Pulumi's mock runtime (the engine the
 * tests use) with a stack's config, then the policy pack over everything it declared and over its
 * stack outputs. No Pulumi CLI, credentials or cluster.
 */
export async function planStack(options: PlanOptions): Promise<Plan> {
    // The project name is read while the program's runtime is set up, as the engine names the root.
    const run = await runProgram(async () => ({ project: pulumi.getProject(), outputs: await program() }), {
        stack: options.stack,
        projectConfig: options.projectConfig,
        preview: options.preview,
        ...(options.stackConfig ? { stackConfig: options.stackConfig } : {}),
        ...(options.secretKeys ? { secretKeys: options.secretKeys } : {}),
    });
    const resources = run.resources;
    const rootStack = fromStackOutputs({ project: run.result.project, stack: options.stack, ...(await resolveStackOutputs(run.result.outputs)) });
    const violations = evaluatePolicies([...resources.map(fromDeclared), rootStack], options.policyConfig ?? {});
    const perCluster: Record<string, DeclaredResource[]> = {};
    // A remote component (cert-manager's) is one Helm release on the cluster, created by its
    // plugin, which the mocks never run: a step of its own.
    const steps = resources.filter((r) => r.custom || r.remote);
    for (const resource of steps) {
        (perCluster[clusterOf(resource)] ??= []).push(resource);
    }
    return {
        stack: options.stack,
        resources,
        rootStack,
        perCluster,
        violations,
        mandatory: violations.filter((v) => v.enforcementLevel === "mandatory"),
        longestChain: longestDependencyChain(
            resources.map((r) => (r.remote ? { ...r, custom: true, provider: r.providers.kubernetes ?? r.provider } : r)),
        ),
    };
}

/** Resource types that are Kubernetes objects the program declares itself (not chart releases). */
function isKubernetesObject(resource: DeclaredResource): boolean {
    return (
        resource.custom &&
        resource.type.startsWith("kubernetes:") &&
        !resource.type.startsWith("kubernetes:helm.sh/") &&
        typeof resource.inputs.apiVersion === "string"
    );
}

/** Inputs that were secrets, replaced so that no key or token lands in the written files. */
function redacted(resource: DeclaredResource): Record<string, unknown> {
    const copy = structuredClone(resource.inputs);
    for (const path of resource.secretInputPaths) {
        const segments = path.split(".");
        let node: Record<string, unknown> = copy;
        for (const segment of segments.slice(0, -1)) {
            if (node[segment] === null || typeof node[segment] !== "object") break;
            node = node[segment] as Record<string, unknown>;
        }
        node[segments[segments.length - 1]] = "[secret]";
    }
    return copy;
}

/**
 * Writes every declared Kubernetes object as YAML, one folder per cluster, plus each chart
 * release's values, so a reviewer reads what `pulumi up` would apply. Secrets are redacted.
 */
export function writeManifests(plan: Plan, folder: string): string[] {
    rmSync(folder, { recursive: true, force: true });
    const written: string[] = [];
    for (const [cluster, resources] of Object.entries(plan.perCluster)) {
        if (cluster === "cloud") continue;
        const clusterFolder = join(folder, cluster);
        mkdirSync(clusterFolder, { recursive: true });
        const objects = resources.filter(isKubernetesObject).map(redacted);
        const manifest = join(clusterFolder, "objects.yaml");
        writeFileSync(manifest, objects.map((object) => stringify(object)).join("---\n"));
        written.push(manifest);
        for (const release of resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release")) {
            const file = join(clusterFolder, `release-${release.name}.yaml`);
            const inputs = redacted(release);
            writeFileSync(file, stringify({ chart: inputs.chart, version: inputs.version, namespace: inputs.namespace, values: inputs.values }));
            written.push(file);
        }
    }
    return written;
}

/** The plan as a reviewer reads it. */
export function renderPlan(plan: Plan): string {
    const total = Object.values(plan.perCluster).reduce((sum, resources) => sum + resources.length, 0);
    const lines = [`Offline plan for stack ${plan.stack}: ${total} resources`];
    for (const [cluster, resources] of Object.entries(plan.perCluster).sort()) {
        lines.push(`\n${cluster} (${resources.length})`);
        const byType = new Map<string, number>();
        for (const resource of resources) byType.set(resource.type, (byType.get(resource.type) ?? 0) + 1);
        for (const [type, count] of [...byType].sort()) lines.push(`  ${String(count).padStart(3)}  ${type}`);
    }
    lines.push(`\nLongest dependency chain: ${plan.longestChain.length} resources`);
    for (const urn of plan.longestChain) lines.push(`  -> ${urn.split("::").slice(-2).join(" ")}`);
    lines.push(`\nPolicy violations: ${plan.mandatory.length} mandatory, ${plan.violations.length - plan.mandatory.length} advisory`);
    for (const violation of plan.violations) {
        const where = violation.urn ? ` (${violation.urn.split("::").pop()})` : "";
        lines.push(`  [${violation.enforcementLevel}] ${violation.policy}${where}: ${violation.message}`);
    }
    return lines.join("\n");
}

/** The plan command's exit status: 1 when any mandatory policy is violated, else 0. */
export function exitCodeOf(plan: Pick<Plan, "mandatory">): 0 | 1 {
    return plan.mandatory.length > 0 ? 1 : 0;
}
