import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Plan, PlanOptions } from "./plan";
import { parsePlanCommand, usage } from "./args";
import { readStackFile } from "./stackFile";

/** Where the command writes: stdout and stderr for the CLI, arrays for tests. */
export interface PlanCommandIo {
    out(text: string): void;
    err(text: string): void;
}

export interface PlanCommandDeps {
    /** Plans a stack; defaults to `planStack` of `./plan`, imported only once a plan is asked for. */
    planStack?: (options: PlanOptions) => Promise<Plan>;
    /** The folder `--stack <name>` finds `Pulumi.<name>.yaml` in; defaults to this checkout. */
    projectRoot?: string;
    /** Where `secure:` values are read from; defaults to `process.env`. */
    environment?: NodeJS.ProcessEnv;
}

/**
 * The plan command: parses its arguments, reads the stack file, plans it and reports. Returns the
 * exit status. The program and the Pulumi SDK are imported only after the command line was
 * accepted, so `--help` and a wrong command line answer at once.
 */
export async function runPlanCommand(argv: string[], io: PlanCommandIo, deps: PlanCommandDeps = {}): Promise<number> {
    const root = deps.projectRoot ?? join(__dirname, "..", "..");
    const command = parsePlanCommand(argv, (stack) => join(root, `Pulumi.${stack}.yaml`));
    if (command.kind === "help") {
        io.out(usage);
        return 0;
    }
    if (command.kind === "error") {
        io.err(`${command.message}\n\n${usage}`);
        return 2;
    }
    if (!existsSync(command.stackFile)) {
        io.err(`${command.stackFile} does not exist\n\n${usage}`);
        return 2;
    }
    let file: ReturnType<typeof readStackFile>;
    try {
        file = readStackFile(command.stackFile, deps.environment ?? process.env);
    } catch (error) {
        io.err((error as Error).message);
        return 2;
    }
    const placeholders = file.secrets.filter((secret) => !secret.fromEnvironment);
    for (const secret of file.secrets) {
        io.err(
            secret.fromEnvironment
                ? `secure value ${secret.path}: from ${secret.variable}`
                : `secure value ${secret.path}: a placeholder (set ${secret.variable} to plan with its value)`,
        );
    }

    const { exitCodeOf, planStack: realPlanStack, renderPlan, writeManifests } = await import("./plan");
    const planStack = deps.planStack ?? realPlanStack;
    const started = Date.now();
    let plan: Plan;
    try {
        plan = await planStack({ stack: file.stack, stackConfig: file.config, secretKeys: file.secretKeys, preview: command.preview });
    } catch (error) {
        const hint =
            placeholders.length > 0
                ? `\n(planned with placeholders for ${placeholders.map((secret) => secret.path).join(", ")}; a supplied root's key needs its real value: ${placeholders.map((secret) => secret.variable).join(", ")})`
                : "";
        io.err(`${error instanceof Error ? error.message : String(error)}${hint}`);
        return 2;
    }
    const folder = command.out ?? `plan-out/${file.stack}`;
    const written = writeManifests(plan, folder);
    if (command.json) {
        io.out(
            JSON.stringify(
                {
                    stack: file.stack,
                    stackFile: command.stackFile,
                    resources: Object.values(plan.perCluster).reduce((sum, resources) => sum + resources.length, 0),
                    perCluster: Object.fromEntries(Object.entries(plan.perCluster).map(([k, v]) => [k, v.length])),
                    longestChain: plan.longestChain,
                    violations: plan.violations,
                    secureValues: file.secrets.map(({ path, variable, fromEnvironment }) => ({ path, variable, fromEnvironment })),
                    files: written,
                    seconds: (Date.now() - started) / 1000,
                },
                null,
                2,
            ),
        );
    } else {
        io.out(renderPlan(plan));
        io.out(`\nWrote ${written.length} files under ${folder} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    }
    return exitCodeOf(plan);
}
