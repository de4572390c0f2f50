import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["tests/**/*.test.ts", "policy-pack/tests/**/*.test.ts"],
        // Each file gets its own Pulumi runtime state.
        pool: "forks",
        // Vitest keeps one core free by default; on a two-core CI machine that halves the speed.
        maxWorkers: 2,
        testTimeout: 30_000,
    },
});
