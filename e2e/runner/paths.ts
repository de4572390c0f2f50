/**
 * Where the test bed keeps what it builds and what a run writes. Everything is under the
 * git-ignored cache (`E2E_CACHE` overrides it), so a run never writes into the repository.
 */
import * as path from "node:path";

/** The repository: the program the scenarios deploy and the scripts they call. */
export const root = path.resolve(__dirname, "..", "..");
/** Binaries, clusters, chart repositories, reports: kept between runs. */
export const cache = process.env.E2E_CACHE ?? path.join(root, ".e2e-cache");
/** One run's backend, Pulumi home, project copy and roots: recreated by every run. */
export const work = path.join(cache, "local");
/** One run's logs: kept when the run fails, removed when it passes. */
export const logs = path.join(work, "logs");

/**
 * A binary of the toolchain (`e2e/build-toolchain.sh` links each family's current build).
 * @param family the build module under e2e/toolchain/ that builds it
 * @param name the binary's file name
 */
export const bin = (family: string, name: string): string => path.join(cache, "bin", family, "current", name);
