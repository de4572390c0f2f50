import { runPlanCommand } from "./command";

// Only the command line parser and the stack file reader are loaded here; the program and the
// Pulumi SDK follow once a plan is asked for (`--help` answers at once).
runPlanCommand(process.argv.slice(2), { out: (text) => console.log(text), err: (text) => console.error(text) }).then(
    (code) => process.exit(code),
    (error: unknown) => {
        console.error(error instanceof Error ? error.message : error);
        process.exit(2);
    },
);
