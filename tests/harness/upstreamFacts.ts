import { readFileSync } from "node:fs";
import { join } from "node:path";
import { defaultVersions } from "../../versions";
import { CrdFacts, factsFiles, factsFolderName, FactsManifest, factsProblems, factsRoot, FactsSetSpec, factsSets, ValuesFacts } from "../../scripts/upstream-facts/layout";

type Pin = FactsSetSpec["pin"];

/**
 * The upstream facts (`upstream-facts/` in the repository) for the versions versions.ts pins.
 * Reading facts of a pin with missing facts throws the problem, which names the refresh command.
 */
function readFacts<T>(pin: Pin, file: string): T {
    const problems = factsProblems(defaultVersions);
    if (problems.length > 0) throw new Error(problems.join("\n"));
    const spec = factsSets.find((s) => s.pin === pin)!;
    return JSON.parse(readFileSync(join(factsRoot, factsFolderName(spec, defaultVersions[pin]), file), "utf8")) as T;
}

/** The manifest of a pinned release's facts: the version they were extracted for, chart by chart. */
export function factsManifest(pin: Pin): FactsManifest {
    return readFacts(pin, factsFiles.manifest);
}

/** Value paths (and any kept defaults) of a chart of a pinned release. */
export function chartValuesFacts(pin: Pin, chart: string): ValuesFacts {
    return readFacts(pin, factsFiles.values(chart));
}

/** A chart's own values.schema.json, without descriptions. */
export function chartValuesSchema(pin: Pin, chart: string): object {
    return readFacts(pin, factsFiles.valuesSchema(chart));
}

/** Structural schemas of the custom resource kinds of every pinned release. */
export function crdFactsOfAllPins(): CrdFacts[] {
    return factsSets.filter((spec) => spec.crdKinds.length > 0).flatMap((spec) => readFacts<CrdFacts[]>(spec.pin, factsFiles.crds));
}

/**
 * An upstream sample manifest at the pinned Istio release, reduced to the fields the samples tests
 * compare (see `sampleFields`).
 */
export function upstreamSample(file: string): Record<string, any>[] { // eslint-disable-line @typescript-eslint/no-explicit-any
    const samples = readFacts<Record<string, Record<string, any>[]>>("istio", factsFiles.samples); // eslint-disable-line @typescript-eslint/no-explicit-any
    if (!samples[file]) throw new Error(`no upstream sample ${file} in the facts; add it to factsSets and refresh`);
    return samples[file];
}
