/**
 * `npm run verify -- --stack <stack>`: the seed's manual demo checks, automated against a live
 * mesh. See `--help` (args.ts) for every check.
 */
import { readFileSync } from "node:fs";
import { configKeys } from "../../config/keys";
import { helpText, parseArgs, UsageError, VerifyOptions } from "./args";
import { CheckContext, defaultCheckSettings, runChecks, systemClock } from "./checks";
import { ExpectedDuration, loadIstiodCertDuration, loadStackOutputs, MeshTarget, parseStackOutputs } from "./inputs";
import { KubeMeshAccess } from "./kubeMeshAccess";
import { MeshAccess } from "./meshAccess";
import { aggregate, exitCodeOf, renderJson, renderTable } from "./report";

function clusterAccess(options: VerifyOptions, target: MeshTarget): Record<string, MeshAccess> {
    const access: Record<string, MeshAccess> = {};
    for (const domain of target.domains) {
        const context = options.contexts[domain.name];
        const kubeconfig = target.kubeconfigs[domain.name];
        if (context) access[domain.name] = KubeMeshAccess.fromContext(domain.name, context, options.kubeconfigPath);
        else if (kubeconfig) access[domain.name] = KubeMeshAccess.fromKubeconfig(domain.name, kubeconfig);
        else throw new UsageError(`no way to reach ${domain.name}: the outputs carry no kubeconfig for it; pass --kubeconfig-context ${domain.name}=<context>`);
    }
    const unknown = Object.keys(options.contexts).filter((name) => !target.domains.some((domain) => domain.name === name));
    if (unknown.length > 0) throw new UsageError(`--kubeconfig-context names unknown domain(s): ${unknown.join(", ")}`);
    return access;
}

async function main(argv: string[]): Promise<number> {
    let parsed: ReturnType<typeof parseArgs>;
    try {
        parsed = parseArgs(argv);
    } catch (error) {
        if (error instanceof UsageError) {
            process.stderr.write(`verify: ${error.message}\n`);
            return 2;
        }
        throw error;
    }
    if (parsed.help) {
        process.stdout.write(helpText);
        return 0;
    }
    const options = parsed.options;
    const target = options.stack
        ? await loadStackOutputs(options.stack)
        : parseStackOutputs(JSON.parse(readFileSync(options.outputsFile!, "utf8")));
    const istiodCertDuration: ExpectedDuration = options.istiodCertDuration
        ? { value: options.istiodCertDuration, source: "--istiod-cert-duration" }
        : !options.checks.includes("rotation")
          ? { problem: "not read: the rotation check is not selected" }
          : options.stack
            ? await loadIstiodCertDuration(options.stack)
            : { value: configKeys.istiodCertDuration.default, source: "project default (no stack given; --istiod-cert-duration overrides)" };
    const context: CheckContext = {
        target,
        access: clusterAccess(options, target),
        settings: {
            ...defaultCheckSettings,
            requests: options.requests,
            timeoutMs: options.timeoutSeconds * 1000,
            spireNamespace: options.spireNamespace,
            istioNamespace: options.istioNamespace,
            istiodCertDuration,
        },
        clock: systemClock,
    };
    process.stderr.write(`verify: ${target.domains.map((d) => `${d.name} (${d.trustDomain})`).join(", ")}\n`);
    const results = await runChecks(context, options.checks, (line) => process.stderr.write(`${line}\n`));
    const report = aggregate(results);
    process.stdout.write(`${options.json ? renderJson(report) : renderTable(report)}\n`);
    return exitCodeOf(report);
}

main(process.argv.slice(2)).then(
    (code) => {
        process.exitCode = code;
    },
    (error: unknown) => {
        process.stderr.write(`verify: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = error instanceof UsageError ? 2 : 1;
    },
);
