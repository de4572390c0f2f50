import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["tests/**/*.test.ts", "policy-pack/tests/**/*.test.ts"],
        pool: "forks",
        // Vitest keeps one core free by default; on a two-core CI machine that halves the speed.
        maxWorkers: 2,
        // Test files share a worker's module cache (importing the Pulumi SDKs once per worker, not
        // once per file); the harness resets Pulumi's runtime for every run and refuses overlaps.
        isolate: false,
        // Most tests run the whole program under mocks, seconds each on an idle machine and many
        // times that on a loaded one (a shared two-core machine ran one for 41 s): a limit is
        // only there to end a test that hangs, never to fail a slow one.
        testTimeout: 600_000,
        hookTimeout: 600_000,
    },
});
