import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["tests/**/*.test.ts", "policy-pack/tests/**/*.test.ts"],
        // Each file gets its own Pulumi runtime state.
        pool: "forks",
        testTimeout: 30_000,
    },
});
