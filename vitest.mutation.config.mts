import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.mts";

// The mutation run's vitest settings (stryker.config.mjs): the project's, without per-test or hook
// time limits. Coverage instrumentation and a loaded machine slow every test down, and Stryker
// stops a mutant that runs too long by itself (its timeoutMS and timeoutFactor).
export default mergeConfig(base, defineConfig({ test: { testTimeout: 0, hookTimeout: 0 } }));
