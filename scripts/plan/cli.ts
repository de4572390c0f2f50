import { parseArgs } from "node:util";
import { stackNames, StackName } from "../../tests/harness/stacks";
import { exitCodeOf, planStack, renderPlan, writeManifests } from "./plan";

const usage = `Usage: npm run plan -- --stack <${stackNames.join("|")}> [--out <folder>] [--preview] [--json]

Runs the program under Pulumi's mock runtime with the stack's config (no Pulumi CLI, credentials
or cluster), prints the resources per cluster and the longest dependency chain, runs the policy
pack over them, writes the declared Kubernetes objects and chart values as YAML to --out
(default plan-out/<stack>), and exits 1 on any mandatory policy violation.`;

async function main(): Promise<number> {
    const { values } = parseArgs({
        options: {
            stack: { type: "string" },
            out: { type: "string" },
            preview: { type: "boolean", default: false },
            json: { type: "boolean", default: false },
            help: { type: "boolean", default: false },
        },
    });
    if (values.help) {
        console.log(usage);
        return 0;
    }
    if (!values.stack || !(stackNames as string[]).includes(values.stack)) {
        console.error(`--stack must be one of ${stackNames.join(", ")}\n\n${usage}`);
        return 2;
    }
    const stack = values.stack as StackName;
    const started = Date.now();
    const plan = await planStack({ stack, preview: values.preview });
    const written = writeManifests(plan, values.out ?? `plan-out/${stack}`);
    if (values.json) {
        console.log(
            JSON.stringify(
                {
                    stack,
                    resources: Object.values(plan.perCluster).reduce((sum, resources) => sum + resources.length, 0),
                    perCluster: Object.fromEntries(Object.entries(plan.perCluster).map(([k, v]) => [k, v.length])),
                    longestChain: plan.longestChain,
                    violations: plan.violations,
                    files: written,
                    seconds: (Date.now() - started) / 1000,
                },
                null,
                2,
            ),
        );
    } else {
        console.log(renderPlan(plan));
        console.log(`\nWrote ${written.length} files under ${values.out ?? `plan-out/${stack}`} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    }
    return exitCodeOf(plan);
}

main().then(
    (code) => process.exit(code),
    (error: unknown) => {
        console.error(error instanceof Error ? error.message : error);
        process.exit(2);
    },
);
