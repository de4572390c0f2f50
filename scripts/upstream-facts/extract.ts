/**
 * Extracts the upstream facts the tests check against from chart sources, for every version
 * versions.ts pins, into `upstream-facts/`.
 *
 *   npm run facts:refresh -- <source>...
 *
 * A source is a chart folder or any folder holding charts (searched recursively), a `helm pull`
 * archive (`.tgz`), or an Istio release archive / source tree (which also holds the samples). A
 * chart counts for a pin when its Chart.yaml `version` is the pinned one, or, for source trees whose
 * Chart.yaml carries a placeholder version, when its path names the pinned version
 * (`istio-1.30.3/base`). Releases for which no source is given keep their existing facts; facts of
 * versions no longer pinned are removed.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { x as extractTar } from "tar";
import { parse, parseAllDocuments } from "yaml";
import { defaultVersions, Versions } from "../../versions";
import {
    CrdFacts,
    factsFiles,
    factsFolderName,
    FactsManifest,
    factsRoot,
    FactsSetSpec,
    factsSets,
    requiredFiles,
    sampleFields,
    ValueTypes,
    ValuesFacts,
} from "./layout";

// ---------------------------------------------------------------------------------------------
// Pure transformations (unit-tested)
// ---------------------------------------------------------------------------------------------

/** A values tree with every leaf replaced by its type; lists are leaves, as Helm replaces them whole. */
export function valueTypes(values: unknown): ValueTypes {
    if (values === null || typeof values !== "object" || Array.isArray(values)) {
        throw new Error("values.yaml must be a map at the top");
    }
    const types: ValueTypes = {};
    for (const [key, value] of Object.entries(values)) {
        if (value === null) types[key] = "null";
        else if (Array.isArray(value)) types[key] = "array";
        else if (typeof value === "object") types[key] = valueTypes(value);
        else if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") types[key] = typeof value as "string" | "number" | "boolean";
        else throw new Error(`values.yaml ${key}: unexpected ${typeof value}`);
    }
    return types;
}

/** Keywords no check reads: prose, examples, defaults and CEL rules (the tests do not evaluate CEL). */
const droppedKeywords = new Set(["description", "title", "example", "examples", "$comment", "default", "x-kubernetes-validations"]);
/** Keywords whose value maps names to subschemas. */
const schemaMapKeywords = new Set(["properties", "patternProperties", "definitions", "$defs", "dependentSchemas"]);
/** Keywords whose value is a subschema (or, for `items`, possibly a list of them). */
const schemaKeywords = new Set(["items", "additionalProperties", "additionalItems", "not", "if", "then", "else", "contains", "propertyNames", "unevaluatedProperties", "unevaluatedItems"]);
/** Keywords whose value is a list of subschemas. */
const schemaListKeywords = new Set(["anyOf", "oneOf", "allOf", "prefixItems"]);

/**
 * A JSON schema without the keywords no check reads. Only schema keywords are dropped: a property
 * that happens to be named `description` stays, and enum or const values are copied untouched.
 */
export function stripSchema(schema: unknown): unknown {
    if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return schema;
    const stripped: Record<string, unknown> = {};
    for (const [keyword, value] of Object.entries(schema)) {
        if (droppedKeywords.has(keyword)) continue;
        if (schemaMapKeywords.has(keyword) && value && typeof value === "object") {
            stripped[keyword] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, stripSchema(sub)]));
        } else if (schemaKeywords.has(keyword)) {
            stripped[keyword] = Array.isArray(value) ? value.map(stripSchema) : stripSchema(value);
        } else if (schemaListKeywords.has(keyword) && Array.isArray(value)) {
            stripped[keyword] = value.map(stripSchema);
        } else {
            stripped[keyword] = value;
        }
    }
    return stripped;
}

/** Copies only `paths` of `source` (`*` walks every list item, keeping positions). */
export function pickPaths(source: unknown, paths: string[][]): unknown {
    let picked: unknown = undefined;
    for (const path of paths) picked = merge(picked, pickPath(source, path));
    return picked;
}

function pickPath(source: unknown, path: string[]): unknown {
    if (path.length === 0) return source;
    const [head, ...rest] = path;
    if (head === "*") {
        if (!Array.isArray(source)) return undefined;
        return source.map((item) => pickPath(item, rest) ?? {});
    }
    if (source === null || typeof source !== "object" || Array.isArray(source) || !(head in source)) return undefined;
    const value = pickPath((source as Record<string, unknown>)[head], rest);
    return value === undefined ? undefined : { [head]: value };
}

function merge(a: unknown, b: unknown): unknown {
    if (a === undefined) return b;
    if (b === undefined) return a;
    if (Array.isArray(a) && Array.isArray(b)) return a.map((item, index) => merge(item, b[index]));
    if (a && b && typeof a === "object" && typeof b === "object") {
        const merged: Record<string, unknown> = { ...(a as Record<string, unknown>) };
        for (const [key, value] of Object.entries(b)) merged[key] = merge(merged[key], value);
        return merged;
    }
    return b;
}

/**
 * The YAML documents of a Helm template that holds plain manifests: lines that are only a template
 * action (`{{- if ... }}`, `{{- end }}`, an include) are removed. A template action left inside a
 * line is refused rather than guessed at.
 */
export function plainDocuments(text: string, file: string): unknown[] {
    const lines = text.split("\n").filter((line) => !/^\s*\{\{.*\}\}\s*$/.test(line));
    const plain = lines.join("\n");
    if (plain.includes("{{")) throw new Error(`${file}: a template action inside a line; cannot read it as plain YAML`);
    return parseAllDocuments(plain).map((document) => {
        if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0].message}`);
        return document.toJSON() as unknown;
    });
}

interface CrdDocument {
    kind?: string;
    spec?: {
        group: string;
        names: { kind: string };
        versions: { name: string; served?: boolean; schema?: { openAPIV3Schema?: object } }[];
    };
}

/** The served versions of one CRD, grouped by identical stripped structural schema. */
export function crdFacts(crd: CrdDocument): CrdFacts {
    if (crd.kind !== "CustomResourceDefinition" || !crd.spec) throw new Error("not a CustomResourceDefinition");
    const schemas: CrdFacts["schemas"] = [];
    for (const version of crd.spec.versions) {
        // A version the API server does not serve cannot be created, so it gets no schema here.
        if (version.served === false) continue;
        const schema = version.schema?.openAPIV3Schema;
        if (!schema) throw new Error(`${crd.spec.names.kind} ${version.name}: no openAPIV3Schema`);
        const stripped = stripSchema(schema) as object;
        const same = schemas.find((s) => JSON.stringify(s.openAPIV3Schema) === JSON.stringify(stripped));
        if (same) same.versions.push(version.name);
        else schemas.push({ versions: [version.name], openAPIV3Schema: stripped });
    }
    return { group: crd.spec.group, kind: crd.spec.names.kind, schemas };
}

// ---------------------------------------------------------------------------------------------
// Reading sources
// ---------------------------------------------------------------------------------------------

/** A file found in a source, with the path that names it to the user (archive path included). */
interface SourceFile {
    path: string;
    shownAs: string;
}

interface FoundChart {
    dir: string;
    shownAs: string;
    name: string;
    version: string;
    type?: string;
    dependencies: { name: string; alias?: string }[];
}

const archivePattern = /\.(tgz|tar\.gz|tar)$/;

/** Every file of every source; archives are unpacked into a temporary folder first. */
function sourceFiles(sources: string[], scratch: string): SourceFile[] {
    const files: SourceFile[] = [];
    for (const [index, source] of sources.entries()) {
        const path = resolve(source);
        if (!existsSync(path)) throw new Error(`source ${source} does not exist`);
        let root = path;
        if (statSync(path).isFile()) {
            if (!archivePattern.test(path)) throw new Error(`source ${source}: not a folder or a .tgz/.tar.gz/.tar archive`);
            root = join(scratch, String(index));
            mkdirSync(root, { recursive: true });
            extractTar({ file: path, cwd: root, sync: true });
        }
        for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
            if (!entry.isFile()) continue;
            const full = join(entry.parentPath, entry.name);
            const inner = relative(root, full).split(sep).join("/");
            if (/(^|\/)(node_modules|\.git)\//.test(inner)) continue;
            const shownAs = root === path ? join(source, inner) : `${source}!/${inner}`;
            files.push({ path: full, shownAs });
        }
    }
    return files;
}

function chartsIn(files: SourceFile[]): FoundChart[] {
    return files
        .filter((f) => basename(f.path) === "Chart.yaml")
        .map((f) => {
            const chart = parse(readFileSync(f.path, "utf8")) as Omit<FoundChart, "dir" | "shownAs">;
            return { ...chart, version: String(chart.version), dependencies: chart.dependencies ?? [], dir: dirname(f.path), shownAs: dirname(f.shownAs) };
        });
}

/** True when a path names a version as a whole segment part (`istio-1.30.3/`, `cert-manager-v1.21.1`). */
function namesVersion(path: string, version: string): boolean {
    const escaped = version.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return new RegExp(`(^|[/_-])${escaped}($|[/_-]|\\.tgz|\\.tar)`).test(path.split(sep).join("/"));
}

/** The one chart named `name` at `version` among the sources, or undefined when none is. */
function pickChart(charts: FoundChart[], name: string, version: string): FoundChart | undefined {
    const named = charts.filter((c) => c.name === name);
    const exact = named.filter((c) => c.version === version);
    const candidates = exact.length > 0 ? exact : named.filter((c) => namesVersion(c.shownAs, version));
    // A subchart of an umbrella chart is not the published chart of that name.
    const topLevel = candidates.filter((c) => !candidates.some((o) => o !== c && c.dir.startsWith(`${o.dir}${sep}charts${sep}`)));
    if (topLevel.length > 1) {
        throw new Error(`chart ${name} ${version} found more than once: ${topLevel.map((c) => c.shownAs).join(", ")}; pass one source`);
    }
    return topLevel[0];
}

function filesOf(files: SourceFile[], dir: string): SourceFile[] {
    return files.filter((f) => f.path.startsWith(`${dir}${sep}`));
}

function valuesOf(dir: string): unknown {
    const file = join(dir, "values.yaml");
    // A chart without a values.yaml declares no values.
    return existsSync(file) ? (parse(readFileSync(file, "utf8")) ?? {}) : {};
}

function valuesFacts(spec: FactsSetSpec, chart: FoundChart, charts: FoundChart[]): ValuesFacts {
    const values = valuesOf(chart.dir);
    const facts: ValuesFacts = { types: valueTypes(values) };
    const kept = spec.keptDefaults[chart.name];
    if (kept) {
        for (const path of kept) {
            if (pickPath(values, path) === undefined) throw new Error(`${chart.shownAs}: no default ${path.join(".")} (a test reads it)`);
        }
        facts.defaults = pickPaths(values, kept) as Record<string, unknown>;
    }
    // Helm routes an umbrella chart's `<alias or name>.*` values into that subchart.
    const subcharts: Record<string, string> = {};
    const subchartTypes: Record<string, ValueTypes> = {};
    for (const dependency of chart.dependencies) {
        const sub = charts.find((c) => c.dir === join(chart.dir, "charts", dependency.name));
        if (!sub || sub.type === "library") continue;
        subcharts[dependency.alias ?? dependency.name] = sub.name;
        subchartTypes[sub.name] ??= valueTypes(valuesOf(sub.dir));
    }
    if (Object.keys(subcharts).length > 0) {
        facts.subcharts = subcharts;
        facts.subchartTypes = subchartTypes;
    }
    return facts;
}

function crdsOf(spec: FactsSetSpec, chartFiles: SourceFile[]): CrdFacts[] {
    const found = new Map<string, CrdFacts>();
    for (const file of chartFiles) {
        if (!/\.ya?ml$/.test(file.path)) continue;
        const text = readFileSync(file.path, "utf8");
        if (!/kind:\s*CustomResourceDefinition/.test(text)) continue;
        for (const document of plainDocuments(text, file.shownAs)) {
            const crd = document as CrdDocument | null;
            if (crd?.kind !== "CustomResourceDefinition" || !crd.spec) continue;
            if (!spec.crdKinds.some((k) => k.group === crd.spec!.group && k.kind === crd.spec!.names.kind)) continue;
            const facts = crdFacts(crd);
            const key = `${facts.group}/${facts.kind}`;
            const earlier = found.get(key);
            if (earlier && JSON.stringify(earlier) !== JSON.stringify(facts)) throw new Error(`${key}: two different CRDs in the chart (${file.shownAs})`);
            found.set(key, facts);
        }
    }
    return spec.crdKinds.map(({ group, kind }) => {
        const facts = found.get(`${group}/${kind}`);
        if (!facts) throw new Error(`no CustomResourceDefinition for ${kind}.${group} in the ${spec.charts.join(", ")} chart sources`);
        return facts;
    });
}

function samplesOf(spec: FactsSetSpec, version: string, files: SourceFile[]): Record<string, unknown[]> | undefined {
    const samples: Record<string, unknown[]> = {};
    for (const [name, { upstreamPath }] of Object.entries(spec.samples)) {
        // The upstream tree (`samples/helloworld/helloworld.yaml`) or a flat copy (`samples/helloworld.yaml`).
        const matches = files.filter((f) => {
            const shown = `/${f.shownAs.split(sep).join("/")}`;
            return (shown.endsWith(`/${upstreamPath}`) || shown.endsWith(`/samples/${name}`)) && namesVersion(shown, version);
        });
        if (matches.length === 0) return undefined;
        if (matches.length > 1) throw new Error(`sample ${name} found more than once: ${matches.map((m) => m.shownAs).join(", ")}`);
        samples[name] = parseAllDocuments(readFileSync(matches[0].path, "utf8"))
            .map((document) => document.toJSON() as { apiVersion?: string; kind?: string } | null)
            .filter((object): object is { apiVersion: string; kind: string } => !!object?.kind && sampleFields[object.kind] !== undefined)
            .map((object) => ({ apiVersion: object.apiVersion, kind: object.kind, ...(pickPaths(object, sampleFields[object.kind]) as object) }));
    }
    return samples;
}

// ---------------------------------------------------------------------------------------------
// Writing facts
// ---------------------------------------------------------------------------------------------

function json(value: unknown): string {
    return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * The facts of one pinned release as file name to content, or the reason the sources do not hold it
 * (undefined when none of its charts is among the sources at all).
 */
function buildSet(spec: FactsSetSpec, version: string, files: SourceFile[], charts: FoundChart[]): Map<string, string> | string | undefined {
    const picked = spec.charts.map((name) => ({ name, chart: pickChart(charts, name, version) }));
    const missing = picked.filter((p) => !p.chart).map((p) => p.name);
    if (missing.length === spec.charts.length) return undefined;
    if (missing.length > 0) return `chart ${missing.join(", ")} ${version} is not among the sources`;
    const out = new Map<string, string>();
    const manifest: FactsManifest = { pin: spec.pin, version, charts: {} };
    for (const { name, chart } of picked) {
        manifest.charts[name] = chart!.version;
        out.set(factsFiles.values(name), json(valuesFacts(spec, chart!, charts)));
        if (spec.valuesSchemas.includes(name)) {
            const file = join(chart!.dir, "values.schema.json");
            if (!existsSync(file)) return `${chart!.shownAs} has no values.schema.json`;
            out.set(factsFiles.valuesSchema(name), json(stripSchema(JSON.parse(readFileSync(file, "utf8")))));
        }
    }
    if (spec.crdKinds.length > 0) {
        const chartFiles = picked.flatMap(({ chart }) => filesOf(files, chart!.dir));
        out.set(factsFiles.crds, json(crdsOf(spec, chartFiles)));
    }
    if (Object.keys(spec.samples).length > 0) {
        const samples = samplesOf(spec, version, files);
        if (!samples) {
            return `no Istio samples for ${version} among the sources (pass the Istio release archive or source tree; its path must name ${version})`;
        }
        out.set(factsFiles.samples, json(samples));
    }
    out.set(factsFiles.manifest, json(manifest));
    return out;
}

/** Extracts facts from `sources` for the pins in `versions`, into `root`. Returns what it did. */
export function refreshFacts(sources: string[], versions: Versions = defaultVersions, root: string = factsRoot): string[] {
    if (sources.length === 0) throw new Error("no sources given: pass chart folders or helm pull .tgz files");
    const report: string[] = [];
    const scratch = mkdtempSync(join(tmpdir(), "upstream-facts-"));
    try {
        const files = sourceFiles(sources, scratch);
        const charts = chartsIn(files);
        const built: { folder: string; content: Map<string, string> }[] = [];
        const errors: string[] = [];
        for (const spec of factsSets) {
            const version = versions[spec.pin];
            const folder = factsFolderName(spec, version);
            const result = buildSet(spec, version, files, charts);
            if (typeof result === "string") errors.push(`${folder}: ${result}`);
            else if (result) built.push({ folder, content: result });
            else if (!requiredFiles(spec).every((file) => existsSync(join(root, folder, file)))) {
                errors.push(`${folder}: no facts yet and no ${spec.charts.join(", ")} chart at ${version} among the sources`);
            } else report.push(`${folder}: kept (no source given)`);
        }
        if (errors.length > 0) throw new Error(`cannot refresh the upstream facts:\n  ${errors.join("\n  ")}`);
        mkdirSync(root, { recursive: true });
        for (const { folder, content } of built) {
            // Written beside the old facts and swapped in whole, so a failure leaves the old ones.
            const fresh = join(root, `.${folder}.new`);
            rmSync(fresh, { recursive: true, force: true });
            mkdirSync(fresh);
            for (const [file, text] of content) writeFileSync(join(fresh, file), text);
            rmSync(join(root, folder), { recursive: true, force: true });
            renameSync(fresh, join(root, folder));
            report.push(`${folder}: ${[...content.keys()].sort().join(", ")}`);
        }
        const pinned = new Set(factsSets.map((spec) => factsFolderName(spec, versions[spec.pin])));
        for (const entry of readdirSync(root)) {
            const stale = !pinned.has(entry) && factsSets.some((spec) => new RegExp(`^${spec.folderPrefix}-v?\\d`).test(entry));
            if (stale) {
                rmSync(join(root, entry), { recursive: true, force: true });
                report.push(`${entry}: removed (no longer pinned)`);
            }
        }
        return report;
    } finally {
        rmSync(scratch, { recursive: true, force: true });
    }
}

if (require.main === module) {
    try {
        for (const line of refreshFacts(process.argv.slice(2))) console.log(line);
    } catch (error) {
        console.error((error as Error).message);
        process.exitCode = 1;
    }
}
