import { parseArgs } from "node:util";

/**
 * The plan command's command line, parsed without loading the program: `--help` and a wrong
 * command line answer at once, before the Pulumi SDK and the program are imported.
 */
export const usage = `Usage: npm run plan -- (--stack <stack> | <path/to/Pulumi.<stack>.yaml>) [--out <folder>] [--preview] [--json]

Runs the program under Pulumi's mock runtime with a stack file's config (no Pulumi CLI,
credentials or cluster), prints the resources per cluster and the longest dependency chain, runs
the policy pack over them, writes the declared Kubernetes objects and chart values as YAML to --out
(default plan-out/<stack>), and exits 1 on any mandatory policy violation.

  --stack <stack>   the stack file Pulumi.<stack>.yaml in the project folder (cluster-kind,
                    cluster-gke, or any stack file you wrote there)
  <path>            a stack file anywhere else, named Pulumi.<stack>.yaml

Secure values (secure: in the stack file) are ciphertext that only the Pulumi CLI decrypts. The
plan takes each from the environment variable PLAN_SECRET_<config path in capitals, other
characters as _> (spire-istio-mesh:cluster1RootKey: PLAN_SECRET_SPIRE_ISTIO_MESH_CLUSTER1ROOTKEY),
for example PLAN_SECRET_SPIRE_ISTIO_MESH_CLUSTER1ROOTKEY="$(cat root.key)", or else uses a
placeholder. Either way the program treats them as secrets, and no value is printed or written.
A supplied root's key must be given this way: a placeholder is not the certificate's key.

Exit status: 0 no mandatory violation, 1 a mandatory violation, 2 a wrong command line or a stack
the program refuses.`;

export type PlanCommand =
    | { kind: "help" }
    | { kind: "error"; message: string }
    | { kind: "plan"; stackFile: string; out?: string; preview: boolean; json: boolean };

/**
 * Parses the plan command's arguments. `resolveStackFile` turns `--stack <name>` into the path of
 * its stack file in the project folder.
 */
export function parsePlanCommand(argv: string[], resolveStackFile: (stack: string) => string): PlanCommand {
    let parsed: ReturnType<typeof parse>;
    try {
        parsed = parse(argv);
    } catch (error) {
        return { kind: "error", message: (error as Error).message };
    }
    const { values, positionals } = parsed;
    if (values.help) return { kind: "help" };
    if (values.stack !== undefined && positionals.length > 0) return { kind: "error", message: "name either --stack or a stack file, not both" };
    if (positionals.length > 1) return { kind: "error", message: `one stack file at a time (got ${positionals.join(", ")})` };
    const stackFile = values.stack !== undefined ? resolveStackFile(values.stack) : positionals[0];
    if (stackFile === undefined) return { kind: "error", message: "name the stack: --stack <stack> or a path to Pulumi.<stack>.yaml" };
    return { kind: "plan", stackFile, out: values.out, preview: values.preview ?? false, json: values.json ?? false };
}

function parse(argv: string[]) {
    return parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
            stack: { type: "string" },
            out: { type: "string" },
            preview: { type: "boolean", default: false },
            json: { type: "boolean", default: false },
            help: { type: "boolean", short: "h", default: false },
        },
    });
}
