import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { isDuration } from "../../config/durations";
import { projectName } from "../../config/keys";
import { x509AuthoritiesOfBundle } from "./spiffe";

/** One domain as the stack outputs describe it. */
export interface DomainTarget {
    name: string;
    trustDomain: string;
    /** The domain's roots (from its `trustBundle` output); empty when the output is missing. */
    roots: X509Certificate[];
    /** Why `roots` is empty, for evidence. */
    rootsProblem?: string;
    /** `host:port` of the ingress gateway's HTTP port, when published. */
    ingressAddress?: string;
}

export interface MeshTarget {
    /** In config order: the first is the client domain, the second hosts the ingress sample. */
    domains: DomainTarget[];
    /** Kubeconfig per domain name, when the outputs carry them (secret outputs shown). */
    kubeconfigs: Record<string, string>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Pulumi prints an unrevealed secret as this placeholder. */
const secretPlaceholder = "[secret]";

/**
 * Reads the `domains` and `kubeconfigs` stack outputs. Domains are ordered by their `index`
 * output when every domain has one (`pulumi stack output --json` sorts object keys), otherwise in
 * document order.
 */
export function parseStackOutputs(document: unknown): MeshTarget {
    if (!isRecord(document) || !isRecord(document.domains)) throw new Error("stack outputs have no `domains` object");
    const entries = Object.entries(document.domains).map(([name, value]) => {
        if (!isRecord(value) || typeof value.trustDomain !== "string") throw new Error(`domains.${name} has no trustDomain`);
        return { name, value };
    });
    if (entries.length < 2) throw new Error(`the mesh needs at least two domains; outputs list ${entries.length}`);
    if (entries.every(({ value }) => typeof value.index === "number")) {
        entries.sort((a, b) => (a.value.index as number) - (b.value.index as number));
    }
    const domains = entries.map(({ name, value }): DomainTarget => {
        const domain: DomainTarget = { name, trustDomain: value.trustDomain as string, roots: [] };
        const bundle = value.trustBundle;
        if (bundle === undefined) {
            domain.rootsProblem = `stack output domains.${name}.trustBundle is missing`;
        } else if (bundle === secretPlaceholder) {
            domain.rootsProblem = `domains.${name}.trustBundle is hidden; read outputs with --show-secrets`;
        } else {
            try {
                domain.roots = x509AuthoritiesOfBundle(bundle as string | object);
                if (domain.roots.length === 0) domain.rootsProblem = `domains.${name}.trustBundle holds no x509-svid key`;
            } catch (error) {
                domain.rootsProblem = `domains.${name}.trustBundle unreadable: ${(error as Error).message}`;
            }
        }
        if (typeof value.ingressAddress === "string" && value.ingressAddress !== "") domain.ingressAddress = value.ingressAddress;
        return domain;
    });
    const kubeconfigs: Record<string, string> = {};
    if (isRecord(document.kubeconfigs)) {
        for (const [name, text] of Object.entries(document.kubeconfigs)) {
            if (typeof text === "string" && text !== secretPlaceholder) kubeconfigs[name] = text;
        }
    }
    return { domains, kubeconfigs };
}

/** Runs a program and returns its output and exit code; injectable so tests need no Pulumi CLI. */
export type CommandRunner = (file: string, args: string[]) => Promise<{ stdout: string; stderr: string; code: number }>;

export const runCommand: CommandRunner = (file, args) =>
    new Promise((resolve) => {
        execFile(file, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
            const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
            const reason = error?.code === "ENOENT" ? `${file} not found on PATH` : error && !stderr ? error.message : "";
            resolve({ stdout: String(stdout), stderr: String(stderr) || reason, code });
        });
    });

/** `pulumi stack output --json --show-secrets` of a stack, parsed. */
export async function loadStackOutputs(stack: string, run: CommandRunner = runCommand): Promise<MeshTarget> {
    const result = await run("pulumi", ["stack", "output", "--json", "--show-secrets", "--stack", stack]);
    if (result.code !== 0) throw new Error(`pulumi stack output failed (exit ${result.code}): ${result.stderr.trim()}`);
    return parseStackOutputs(JSON.parse(result.stdout));
}

/** The cacerts lifetime the rotation check expects, or why it cannot know it. */
export type ExpectedDuration = { value: string; source: string } | { problem: string };

/**
 * The istiod cacerts duration the stack is configured with, from `pulumi config get`. The CLI
 * already answers with the project's declared default when the stack does not set the key, so a
 * failure means something is wrong (no project here, backend or passphrase unavailable, key
 * undeclared) and is reported as such: substituting a default would make the rotation check
 * compare against a value nobody configured.
 */
export async function loadIstiodCertDuration(stack: string, run: CommandRunner = runCommand): Promise<ExpectedDuration> {
    const key = `${projectName}:istiodCertDuration`;
    const args = ["config", "get", key, "--stack", stack];
    const command = `pulumi ${args.join(" ")}`;
    const result = await run("pulumi", args);
    if (result.code !== 0) return { problem: `${command} failed (exit ${result.code}): ${result.stderr.trim() || "(no stderr)"}` };
    // Environment diagnostics, when any, follow the value after a blank line.
    const value = result.stdout.split("\n")[0].trim();
    if (!isDuration(value)) return { problem: `${command} printed ${JSON.stringify(value)}, not a duration such as 720h` };
    return { value, source: `stack ${stack} config ${key}` };
}
