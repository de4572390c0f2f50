// Mutation testing (`npm run test:mutation`): StrykerJS plants small bugs (mutants) in the modules
// below, one at a time, and runs the vitest tests that cover each; a mutant no test notices
// "survives". Not part of `npm test` or `.ci/run`: a full run takes hours on two cores.
// Narrow it with `npm run test:mutation -- --mutate 'lib/**/*.ts'`; docs/performance.md records
// the runs made so far and their scores.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
    testRunner: "vitest",
    vitest: { configFile: "vitest.mutation.config.mts" },
    // Each mutant is compiled first; one that does not type-check is not run (the TypeScript checker).
    checkers: ["typescript"],
    tsconfigFile: "tsconfig.json",
    // Only the tests that run a mutant's code are run for it.
    coverageAnalysis: "perTest",
    mutate: [
        "config/**/*.ts",
        "lib/**/*.ts",
        "policy-pack/**/*.ts",
        "!policy-pack/tests/**",
        "scripts/verify/**/*.ts",
    ],
    // The sandbox copy leaves out what no test reads.
    ignorePatterns: [".e2e-cache", "plan-out", "reports", ".pulumi-local"],
    // Two cores, shared: one test runner and one checker at a time.
    concurrency: 1,
    // Program runs under the mock engine take seconds each; the default 5 s on top of the initial run's time is too tight on a loaded machine.
    timeoutMS: 60000,
    timeoutFactor: 3,
    incremental: true,
    incrementalFile: "reports/stryker-incremental.json",
    reporters: ["clear-text", "progress", "json"],
    jsonReporter: { fileName: "reports/mutation/mutation.json" },
    tempDirName: ".stryker-tmp",
    cleanTempDir: true,
};
