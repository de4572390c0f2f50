/**
 * What the project keeps of each pinned upstream release under `upstream-facts/`, and where.
 *
 * Shared by the extraction script (which writes the facts) and the tests (which read them), so both
 * agree on folder names and on which charts, custom resource kinds and sample files each pinned
 * version must provide.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Versions } from "../../versions";

/** Folder of the facts, inside the repository so that a clone alone can run the tests. */
export const factsRoot = join(__dirname, "..", "..", "upstream-facts");

/** The one command a maintainer runs after changing a pin in versions.ts. */
export const refreshCommand = "npm run facts:refresh -- <chart sources: helm pull .tgz files or chart folders>";

/** A custom resource kind the program emits, whose structural schema the tests validate it against. */
export interface CrdKind {
    group: string;
    kind: string;
}

/** A sample manifest the samples tests compare against: where it lives in the upstream tree. */
export interface SampleSpec {
    /** Path inside the upstream source tree (or release archive) at the pinned tag. */
    upstreamPath: string;
}

/**
 * One pinned upstream release: the charts it publishes and what the tests read of them.
 */
export interface FactsSetSpec {
    /** The versions.ts key whose pin names this release. */
    pin: keyof Versions;
    /** Folder name prefix; the pinned version follows it. */
    folderPrefix: string;
    /** Published chart names (Chart.yaml `name`) whose values the program sets. */
    charts: string[];
    /** Charts whose own values.schema.json the tests validate values against. */
    valuesSchemas: string[];
    /** Kinds the program emits that this release defines (CRDs found in its charts). */
    crdKinds: CrdKind[];
    /** Chart default values the tests read (paths from the root of values.yaml), per chart. */
    keptDefaults: Record<string, string[][]>;
    /** Sample manifests keyed by the file name the tests use. */
    samples: Record<string, SampleSpec>;
}

/**
 * Every pinned release. Adding a kind the program emits, or a default a test reads, starts here;
 * then refresh the facts.
 */
export const factsSets: FactsSetSpec[] = [
    {
        pin: "istio",
        folderPrefix: "istio",
        charts: ["base", "istiod", "gateway"],
        valuesSchemas: ["gateway"],
        crdKinds: [
            { group: "networking.istio.io", kind: "Gateway" },
            { group: "networking.istio.io", kind: "VirtualService" },
            { group: "networking.istio.io", kind: "DestinationRule" },
            { group: "security.istio.io", kind: "PeerAuthentication" },
        ],
        keptDefaults: {
            gateway: [
                ["_internal_defaults_do_not_set", "networkGatewayPorts"],
                ["_internal_defaults_do_not_set", "service", "ports"],
            ],
        },
        samples: {
            "helloworld.yaml": { upstreamPath: "samples/helloworld/helloworld.yaml" },
            "helloworld-gateway.yaml": { upstreamPath: "samples/helloworld/helloworld-gateway.yaml" },
            "curl.yaml": { upstreamPath: "samples/curl/curl.yaml" },
            "bookinfo.yaml": { upstreamPath: "samples/bookinfo/platform/kube/bookinfo.yaml" },
        },
    },
    {
        pin: "spireChart",
        folderPrefix: "spire",
        charts: ["spire"],
        valuesSchemas: [],
        crdKinds: [],
        keptDefaults: {},
        samples: {},
    },
    {
        pin: "spireCrdsChart",
        folderPrefix: "spire-crds",
        charts: ["spire-crds"],
        valuesSchemas: [],
        crdKinds: [
            { group: "spire.spiffe.io", kind: "ClusterSPIFFEID" },
            { group: "spire.spiffe.io", kind: "ClusterFederatedTrustDomain" },
        ],
        keptDefaults: {},
        samples: {},
    },
    {
        pin: "certManager",
        folderPrefix: "cert-manager",
        charts: ["cert-manager"],
        valuesSchemas: ["cert-manager"],
        crdKinds: [
            { group: "cert-manager.io", kind: "Certificate" },
            { group: "cert-manager.io", kind: "Issuer" },
            { group: "cert-manager.io", kind: "ClusterIssuer" },
        ],
        keptDefaults: {},
        samples: {},
    },
];

/**
 * Fields of the upstream sample objects the samples tests compare against, by kind (`*` walks
 * every item of a list). apiVersion and kind are always kept; objects of other kinds are dropped.
 */
export const sampleFields: Record<string, string[][]> = {
    Deployment: [
        ["metadata", "name"],
        ["spec", "template", "metadata", "labels"],
        ["spec", "template", "spec", "serviceAccountName"],
        ["spec", "template", "spec", "containers", "*", "image"],
        ["spec", "template", "spec", "containers", "*", "command"],
        ["spec", "template", "spec", "containers", "*", "env"],
        ["spec", "template", "spec", "containers", "*", "volumeMounts", "*", "mountPath"],
    ],
    Service: [["metadata", "name"], ["spec", "ports"], ["spec", "selector"]],
    ServiceAccount: [["metadata", "name"]],
    Gateway: [["metadata", "name"], ["spec"]],
    VirtualService: [["metadata", "name"], ["spec"]],
};

/** Folder name of one release's facts at a version, e.g. `istio-1.30.3`. */
export function factsFolderName(spec: FactsSetSpec, version: string): string {
    return `${spec.folderPrefix}-${version}`;
}

/** Files of one release's facts, relative to its folder. */
export const factsFiles = {
    manifest: "manifest.json",
    values: (chart: string) => `${chart}.values.json`,
    valuesSchema: (chart: string) => `${chart}.values.schema.json`,
    crds: "crds.json",
    samples: "samples.json",
} as const;

/** What the manifest of one release's facts records. */
export interface FactsManifest {
    /** versions.ts key and the pinned version the facts were extracted for. */
    pin: string;
    version: string;
    /** Chart name to the `version` its Chart.yaml declared (source trees carry placeholders). */
    charts: Record<string, string>;
}

/** Every file one release's facts must hold for the tests to read them. */
export function requiredFiles(spec: FactsSetSpec): string[] {
    return [
        factsFiles.manifest,
        ...spec.charts.map(factsFiles.values),
        ...spec.valuesSchemas.map(factsFiles.valuesSchema),
        ...(spec.crdKinds.length > 0 ? [factsFiles.crds] : []),
        ...(Object.keys(spec.samples).length > 0 ? [factsFiles.samples] : []),
    ];
}

/**
 * Problems with the facts for a set of pins: a pinned version with no facts folder, a file missing
 * from it, or a manifest for another version. Empty when every pin has complete facts.
 */
export function factsProblems(versions: Pick<Versions, FactsSetSpec["pin"]>, root: string = factsRoot): string[] {
    const problems: string[] = [];
    for (const spec of factsSets) {
        const version = versions[spec.pin];
        const folder = join(root, factsFolderName(spec, version));
        const where = `versions.ts pins ${spec.pin} ${version}`;
        if (!existsSync(folder)) {
            problems.push(`${where} but upstream-facts/${factsFolderName(spec, version)} is missing; run \`${refreshCommand}\``);
            continue;
        }
        const missing = requiredFiles(spec).filter((file) => !existsSync(join(folder, file)));
        if (missing.length > 0) {
            problems.push(`${where} but upstream-facts/${factsFolderName(spec, version)} lacks ${missing.join(", ")}; run \`${refreshCommand}\``);
            continue;
        }
        const manifest = JSON.parse(readFileSync(join(folder, factsFiles.manifest), "utf8")) as FactsManifest;
        if (manifest.pin !== spec.pin || manifest.version !== version) {
            problems.push(`${where} but upstream-facts/${factsFolderName(spec, version)} holds ${manifest.pin} ${manifest.version}; run \`${refreshCommand}\``);
        }
    }
    return problems;
}

/** Type of a leaf in a chart's values.yaml; maps are nested, an empty map stays `{}`. */
export type ValueType = "string" | "number" | "boolean" | "null" | "array";

/** A chart's values.yaml with every leaf replaced by its type: the value paths the chart declares. */
export interface ValueTypes {
    [key: string]: ValueType | ValueTypes;
}

/** What `<chart>.values.json` holds. */
export interface ValuesFacts {
    /** Every value path of the chart's values.yaml, with its type. */
    types: ValueTypes;
    /** Default values a test reads (see `keptDefaults`), as a pruned copy of values.yaml. */
    defaults?: Record<string, unknown>;
    /** Umbrella-chart keys that route into a subchart (alias or name) and the subchart's name. */
    subcharts?: Record<string, string>;
    /** Value paths of each subchart, by subchart name. */
    subchartTypes?: Record<string, ValueTypes>;
}

/** What `crds.json` holds: per kind, its served versions grouped by identical structural schema. */
export interface CrdFacts {
    group: string;
    kind: string;
    schemas: { versions: string[]; openAPIV3Schema: object }[];
}
