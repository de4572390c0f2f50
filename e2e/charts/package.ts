/**
 * Packages the chart sources (a folder laid out like the shared `upstream/charts/`) into three
 * classic Helm repositories, `<out>/istio`, `<out>/spiffe` and `<out>/jetstack`, the way each
 * project's release packages them, so that the test bed installs the same charts a user pulls
 * from the public repositories. See README.md in this folder for what changes and why.
 *
 *   npx tsx e2e/charts/package.ts [sourcesDir] [outDir]
 *
 * The sources folder defaults to $E2E_CHART_SOURCES, then to `../shared/upstream/charts` beside
 * the repository; the output folder to `.e2e-cache/charts`.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import * as tar from "tar";
import { parse, parseDocument, stringify, YAMLSeq } from "yaml";
import { ChartRepositories, defaultVersions, Versions } from "../../versions";

export type Repository = keyof ChartRepositories;

/** What a project's release changes in a chart's sources before packaging it. */
export type Stamp = "istio" | "cert-manager" | "none";

/** One chart the program installs, where its source lies and which repository serves it. */
export interface ChartSource {
    repository: Repository;
    name: string;
    version: string;
    /** Folder of the chart's source, relative to the sources folder. */
    folder: string;
    stamp: Stamp;
}

/** One file of a packaged chart, by its path inside the archive (`<chart>/...`). */
export type ArchiveFiles = Map<string, Buffer>;

export interface PackagedChart {
    source: ChartSource;
    files: ArchiveFiles;
    /** Dependencies left out of Chart.yaml because their source is absent and they are off by default. */
    dropped: string[];
}

export interface RepositoryEntry {
    source: ChartSource;
    file: string;
    digest: string;
    dropped: string[];
}

/**
 * Every archive entry and index timestamp gets this time, so that packaging the same sources twice
 * gives byte-identical archives and index digests (a rerun of the test bed then changes nothing a
 * Helm cache or a Pulumi diff could notice).
 */
export const packagedAt = new Date("2000-01-01T00:00:00Z");

/**
 * The charts the program installs, at `versions` (versions.ts unless a caller passes others): the
 * test bed proves the pinned charts, nothing else.
 */
export function chartSources(versions: Pick<Versions, "istio" | "spireChart" | "spireCrdsChart" | "certManager"> = defaultVersions): ChartSource[] {
    const istio = (name: string): ChartSource => ({ repository: "istio", name, version: versions.istio, folder: `istio-${versions.istio}/${name}`, stamp: "istio" });
    return [
        istio("base"),
        istio("istiod"),
        istio("gateway"),
        { repository: "spiffe", name: "spire-crds", version: versions.spireCrdsChart, folder: `spire-crds-${versions.spireCrdsChart}`, stamp: "none" },
        { repository: "spiffe", name: "spire", version: versions.spireChart, folder: `spire-${versions.spireChart}`, stamp: "none" },
        { repository: "jetstack", name: "cert-manager", version: versions.certManager, folder: `cert-manager-${versions.certManager}`, stamp: "cert-manager" },
    ];
}

/** The `version`/`appVersion` each project's sources carry until its release tooling stamps them. */
const placeholderVersions: Record<Exclude<Stamp, "none">, string> = { istio: "1.0.0", "cert-manager": "v0.0.0" };

/**
 * Sets `version` and `appVersion` from their placeholder to the pinned version (Istio's
 * release-builder and cert-manager's release tooling do this), or, for a chart released as is,
 * checks that its version is the pinned one. Only the two lines change.
 */
export function stampChartYaml(text: string, source: ChartSource): string {
    const where = `${source.folder}/Chart.yaml`;
    const chart = parse(text) as { name?: unknown; version?: unknown };
    if (chart.name !== source.name) throw new Error(`${where}: name is ${String(chart.name)}, expected ${source.name}`);
    if (source.stamp === "none") {
        if (chart.version !== source.version) throw new Error(`${where}: version is ${String(chart.version)}, versions.ts pins ${source.version}`);
        return text;
    }
    const placeholder = placeholderVersions[source.stamp];
    let stamped = text;
    for (const key of ["version", "appVersion"]) {
        const line = new RegExp(`^${key}:[ \\t]*["']?${placeholder.replace(/\./g, "\\.")}["']?[ \\t]*$`, "m");
        if (!line.test(stamped)) throw new Error(`${where}: expected the placeholder line "${key}: ${placeholder}" that the release replaces`);
        stamped = stamped.replace(line, `${key}: ${source.version}`);
    }
    return stamped;
}

/** Hubs Istio's sources name for development builds; its release points them at the public hub. */
const istioDevelopmentHubs = ["gcr.io/istio-testing", "gcr.io/istio-release", "registry.istio.io/testing", "registry.istio.io/release"];
/** Istio's public image hub, which a release's charts default to. */
export const istioReleaseHub = "docker.io/istio";
/** Development tags in Istio's sources: `latest`, `release-1.x-latest-daily`, `1.x-dev`. */
const istioDevelopmentTag = /^([ \t]*tag:[ \t]*)(latest|\S*-latest-daily|1\.\d-dev)[ \t]*$/gm;

/**
 * Sets the default image hub and tag in an Istio chart's values.yaml to the release's, as Istio's
 * release-builder does (by text, so comments and layout stay). Returns how many lines changed.
 */
export function stampIstioValues(text: string, version: string): { text: string; changed: number } {
    let changed = 0;
    const hubs = text.replace(/^([ \t]*hub:[ \t]*)(\S+)[ \t]*$/gm, (line, key: string, hub: string) => {
        if (!istioDevelopmentHubs.includes(hub)) return line;
        changed++;
        return `${key}${istioReleaseHub}`;
    });
    const tags = hubs.replace(istioDevelopmentTag, (_line, key: string) => {
        changed++;
        return `${key}${version}`;
    });
    return { text: tags, changed };
}

/** Files of cert-manager's chart folder that its release copies into the packaged chart. */
const certManagerReleaseFiles = /^(Chart\.yaml|values\.yaml|values\.schema\.json|\.helmignore|templates\/[^/]+\.yaml|templates\/NOTES\.txt|templates\/_helpers\.tpl)$/;

/**
 * What cert-manager's release does besides the version stamp: it builds the chart from chosen
 * files only (so `signkey_annotation.txt` and the linter's exceptions stay out), renders README.md
 * from its template, and adds the Artifact Hub signing-key and prerelease annotations to Chart.yaml.
 */
export function certManagerRelease(files: Map<string, Buffer>, dir: string, version: string): Map<string, Buffer> {
    // Read from the folder: .helmignore hides README.template.md from the packaged files.
    const text = (name: string): string => {
        const file = path.join(dir, name);
        if (!fs.existsSync(file)) throw new Error(`${file} is missing; cert-manager's release needs it`);
        return fs.readFileSync(file, "utf8");
    };
    const released = new Map([...files].filter(([name]) => certManagerReleaseFiles.test(name)));
    released.set("README.md", Buffer.from(text("README.template.md").replaceAll("{{RELEASE_VERSION}}", version)));
    const chart = parseDocument(files.get("Chart.yaml")!.toString("utf8"));
    chart.setIn(["annotations", "artifacthub.io/signKey"], text("signkey_annotation.txt"));
    chart.setIn(["annotations", "artifacthub.io/prerelease"], String(version.includes("-")));
    released.set("Chart.yaml", Buffer.from(chart.toString()));
    return released;
}

/**
 * The subset of `.helmignore` the sources use: one glob per line matched against the file name
 * (no slash) or the path from the chart's root (with a slash), `*` and `?` not crossing `/`, a
 * trailing `/` for directories. Negation and character classes are refused rather than guessed.
 * Helm also always ignores dot files under `templates/`.
 */
export function helmIgnore(text: string): (relativePath: string, isDirectory: boolean) => boolean {
    const rules = [...text.split(/\r?\n/), "templates/.?*"]
        .map((line) => line.trim())
        .filter((line) => line !== "" && !line.startsWith("#"))
        .map((line) => {
            if (line.startsWith("!") || line.includes("[") || line.includes("**")) {
                throw new Error(`.helmignore rule "${line}": negation, character classes and ** are not supported by this packager`);
            }
            const directoryOnly = line.endsWith("/");
            const body = line.replace(/\/$/, "");
            const glob = body.replace(/^\//, "");
            const source = glob.replace(/\\(.)|([*?])|([^\\*?]+)/g, (_m, escaped: string, wildcard: string, literal: string) =>
                escaped !== undefined ? escapeRegExp(escaped) : wildcard === "*" ? "[^/]*" : wildcard === "?" ? "[^/]" : escapeRegExp(literal),
            );
            return { directoryOnly, wholePath: body.includes("/"), pattern: new RegExp(`^${source}$`) };
        });
    return (relativePath, isDirectory) =>
        rules.some((rule) => (!rule.directoryOnly || isDirectory) && rule.pattern.test(rule.wholePath ? relativePath : path.posix.basename(relativePath)));
}

function escapeRegExp(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** The files of a chart folder that `helm package` would keep, by path from the chart's root. */
export function chartFiles(dir: string): Map<string, Buffer> {
    const ignoreFile = path.join(dir, ".helmignore");
    const ignored = helmIgnore(fs.existsSync(ignoreFile) ? fs.readFileSync(ignoreFile, "utf8") : "");
    const files = new Map<string, Buffer>();
    const walk = (relative: string): void => {
        for (const entry of fs.readdirSync(path.join(dir, relative)).sort()) {
            const child = relative === "" ? entry : `${relative}/${entry}`;
            const stat = fs.statSync(path.join(dir, child));
            if (ignored(child, stat.isDirectory())) continue;
            if (stat.isDirectory()) walk(child);
            else if (stat.isFile()) files.set(child, fs.readFileSync(path.join(dir, child)));
            else throw new Error(`${path.join(dir, child)}: not a regular file`);
        }
    };
    walk("");
    return files;
}

/** Every chart in the sources folder (one or two levels deep), by `name@version`. */
export function sourceCharts(sourcesDir: string): Map<string, string> {
    const charts = new Map<string, string>();
    const visit = (dir: string, depth: number): void => {
        const chartYaml = path.join(dir, "Chart.yaml");
        if (fs.existsSync(chartYaml)) {
            const chart = parse(fs.readFileSync(chartYaml, "utf8")) as { name: string; version: string };
            charts.set(`${chart.name}@${chart.version}`, dir);
            return;
        }
        if (depth === 2) return;
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            if (entry.isDirectory()) visit(path.join(dir, entry.name), depth + 1);
        }
    };
    visit(sourcesDir, 0);
    return charts;
}

interface Dependency {
    name: string;
    version?: string;
    repository?: string;
    condition?: string;
}

/**
 * Whether a dependency is off with the chart's default values: the first path of its `condition`
 * that holds a boolean decides, as in Helm; no such path means on.
 */
export function disabledByDefault(dependency: Dependency, values: unknown): boolean {
    for (const condition of (dependency.condition ?? "").split(",").map((c) => c.trim()).filter((c) => c !== "")) {
        const value = condition.split(".").reduce<unknown>((node, key) => (node !== null && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined), values);
        if (typeof value === "boolean") return !value;
    }
    return false;
}

/**
 * Resolves a chart's `file://` dependencies that point outside it (spire's `file://../spire-lib`)
 * into `charts/<name>/`, as `helm dependency build` followed by `helm package` does. A dependency
 * whose source is not in the sources folder and that the chart's defaults switch off is left out
 * of Chart.yaml (Helm refuses a chart whose Chart.yaml names a dependency missing from charts/);
 * anything else missing is an error. Chart.lock stays as published: only `helm dependency build`
 * reads it.
 */
function vendorDependencies(files: Map<string, Buffer>, where: string, sources: Map<string, string>): string[] {
    const chartYaml = files.get("Chart.yaml")!.toString("utf8");
    const chart = parse(chartYaml) as { dependencies?: Dependency[] };
    const values: unknown = files.has("values.yaml") ? parse(files.get("values.yaml")!.toString("utf8")) : {};
    const dropped: string[] = [];
    for (const dependency of chart.dependencies ?? []) {
        const repository = dependency.repository ?? "";
        if (repository === "" || (repository.startsWith("file://") && !path.posix.normalize(repository.slice("file://".length)).startsWith("../"))) {
            continue; // already under charts/
        }
        if (!repository.startsWith("file://")) {
            throw new Error(`${where}: dependency ${dependency.name} comes from ${repository}; only file:// dependencies can be vendored without a network`);
        }
        const key = `${dependency.name}@${dependency.version ?? ""}`;
        const dir = sources.get(key);
        if (dir !== undefined) {
            const dependencyFiles = chartFiles(dir);
            vendorDependencies(dependencyFiles, path.relative(process.cwd(), dir), sources);
            for (const [file, data] of dependencyFiles) files.set(`charts/${dependency.name}/${file}`, data);
        } else if (disabledByDefault(dependency, values)) {
            dropped.push(key);
        } else {
            throw new Error(`${where}: dependency ${key} (${repository}) is not in the sources folder and is enabled by default`);
        }
    }
    if (dropped.length > 0) files.set("Chart.yaml", Buffer.from(withoutDependencies(chartYaml, dropped, where)));
    return dropped;
}

/** Chart.yaml without the named dependencies; everything else parses to the same value. */
function withoutDependencies(chartYaml: string, dropped: string[], where: string): string {
    const document = parseDocument(chartYaml);
    const dependencies = document.get("dependencies") as YAMLSeq;
    const keep = (item: unknown): boolean => {
        const dependency = (item as { toJSON(): Dependency }).toJSON();
        return !dropped.includes(`${dependency.name}@${dependency.version ?? ""}`);
    };
    dependencies.items = dependencies.items.filter(keep);
    const result = document.toString();
    const before = parse(chartYaml) as { dependencies: Dependency[] };
    const expected = { ...before, dependencies: before.dependencies.filter((d) => !dropped.includes(`${d.name}@${d.version ?? ""}`)) };
    if (!isDeepStrictEqual(parse(result), expected)) throw new Error(`${where}: removing ${dropped.join(", ")} from Chart.yaml changed more than the dependency list`);
    return result;
}

/**
 * A chart's files as its release packages them, under `<name>/`. `sources` (from sourceCharts) is
 * where its `file://../` dependencies are looked up; passed in so that several charts share one scan.
 */
export function packageChart(source: ChartSource, sourcesDir: string, sources = sourceCharts(sourcesDir)): PackagedChart {
    const dir = path.join(sourcesDir, source.folder);
    if (!fs.existsSync(path.join(dir, "Chart.yaml"))) throw new Error(`${dir}: no Chart.yaml; is ${sourcesDir} a chart sources folder for the versions in versions.ts?`);
    let files = chartFiles(dir);
    files.set("Chart.yaml", Buffer.from(stampChartYaml(files.get("Chart.yaml")!.toString("utf8"), source)));
    if (source.stamp === "istio" && files.has("values.yaml")) {
        files.set("values.yaml", Buffer.from(stampIstioValues(files.get("values.yaml")!.toString("utf8"), source.version).text));
    }
    if (source.stamp === "cert-manager") files = certManagerRelease(files, dir, source.version);
    const dropped = vendorDependencies(files, source.folder, sources);
    return { source, dropped, files: new Map([...files].map(([file, data]) => [`${source.name}/${file}`, data])) };
}

/**
 * Writes the archive `<name>-<version>.tgz`: gzip'd tar of regular files only, every path under
 * the `<name>/` folder, as Helm's own packager writes it. Returns the archive's path.
 */
export async function writeArchive(chart: PackagedChart, repositoryDir: string): Promise<string> {
    const staging = fs.mkdtempSync(path.join(os.tmpdir(), "chart-"));
    try {
        const names = [...chart.files.keys()].sort();
        for (const name of names) {
            fs.mkdirSync(path.join(staging, path.dirname(name)), { recursive: true });
            fs.writeFileSync(path.join(staging, name), chart.files.get(name)!, { mode: 0o644 });
        }
        const file = path.join(repositoryDir, `${chart.source.name}-${chart.source.version}.tgz`);
        await tar.create({ gzip: true, file, cwd: staging, portable: true, mtime: packagedAt, noDirRecurse: true }, names);
        return file;
    } finally {
        fs.rmSync(staging, { recursive: true, force: true });
    }
}

/** Chart.yaml fields a repository index entry carries (Helm reads the index strictly: no others). */
const indexedFields = ["apiVersion", "name", "version", "kubeVersion", "description", "type", "keywords", "home", "sources", "dependencies", "maintainers", "icon", "appVersion", "deprecated", "annotations"];

/**
 * A repository's index.yaml: per chart name, one entry with the chart's metadata, the archive's
 * URL relative to the repository (so the folder can be served at any address), its sha256 digest
 * and a creation time.
 */
export function indexYaml(charts: { chartYaml: string; file: string; digest: string }[]): string {
    const entries: Record<string, Record<string, unknown>[]> = {};
    for (const chart of charts) {
        const metadata = parse(chart.chartYaml) as Record<string, unknown>;
        const unknown = Object.keys(metadata).filter((key) => !indexedFields.includes(key));
        if (unknown.length > 0) throw new Error(`${chart.file}: Chart.yaml has fields a Helm index cannot carry: ${unknown.join(", ")}`);
        const name = metadata.name as string;
        entries[name] = [...(entries[name] ?? []), { ...metadata, urls: [chart.file], created: packagedAt.toISOString(), digest: chart.digest }];
    }
    return stringify({ apiVersion: "v1", entries, generated: packagedAt.toISOString() });
}

export function sha256(file: string): string {
    return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/**
 * Packages `charts` (by default every chart the program installs) from `sourcesDir` into
 * `<outDir>/<repository>/`, replacing what those folders held, so no stale archive stays listed.
 */
export async function packageAll(sourcesDir: string, outDir: string, charts = chartSources()): Promise<RepositoryEntry[]> {
    if (!fs.existsSync(sourcesDir)) {
        throw new Error(`chart sources folder ${sourcesDir} does not exist; pass it as the first argument or set E2E_CHART_SOURCES (see e2e/charts/README.md)`);
    }
    const sources = sourceCharts(sourcesDir);
    const written: RepositoryEntry[] = [];
    const repositories = [...new Set(charts.map((chart) => chart.repository))];
    for (const repository of repositories) {
        const repositoryDir = path.join(outDir, repository);
        fs.rmSync(repositoryDir, { recursive: true, force: true });
        fs.mkdirSync(repositoryDir, { recursive: true });
        const indexed: { chartYaml: string; file: string; digest: string }[] = [];
        for (const source of charts.filter((chart) => chart.repository === repository)) {
            const chart = packageChart(source, sourcesDir, sources);
            const archive = await writeArchive(chart, repositoryDir);
            const entry = { source, file: path.basename(archive), digest: sha256(archive), dropped: chart.dropped };
            indexed.push({ chartYaml: chart.files.get(`${source.name}/Chart.yaml`)!.toString("utf8"), file: entry.file, digest: entry.digest });
            written.push(entry);
        }
        fs.writeFileSync(path.join(repositoryDir, "index.yaml"), indexYaml(indexed));
    }
    return written;
}

const repositoryRoot = path.resolve(__dirname, "../..");

/** The sources folder: the argument, then $E2E_CHART_SOURCES, then the shared folder beside the clone. */
export function defaultSourcesDir(): string {
    return process.env.E2E_CHART_SOURCES ?? path.resolve(repositoryRoot, "../shared/upstream/charts");
}

if (require.main === module) {
    const [sourcesDir = defaultSourcesDir(), outDir = path.join(repositoryRoot, ".e2e-cache/charts")] = process.argv.slice(2);
    packageAll(path.resolve(sourcesDir), path.resolve(outDir)).then(
        (entries) => {
            for (const entry of entries) {
                const note = entry.dropped.length > 0 ? ` (left out, not in the sources and off by default: ${entry.dropped.join(", ")})` : "";
                console.error(`${entry.source.repository}/${entry.file} sha256:${entry.digest}${note}`);
            }
            console.log(JSON.stringify({ outDir: path.resolve(outDir), charts: entries.map((e) => ({ repository: e.source.repository, name: e.source.name, version: e.source.version, file: e.file, digest: e.digest, dropped: e.dropped })) }, null, 2));
        },
        (error: Error) => {
            console.error(`package: ${error.message}`);
            process.exitCode = 1;
        },
    );
}
