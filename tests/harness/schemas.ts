import Ajv, { ValidateFunction } from "ajv";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { defaultVersions } from "../../versions";
import { factsProblems, ValueTypes, ValuesFacts } from "../../scripts/upstream-facts/layout";
import { DeclaredResource, ProgramRun } from "./program";
import { projectRoot } from "./stacks";
import { chartValuesFacts, chartValuesSchema, crdFactsOfAllPins } from "./upstreamFacts";

// The upstream facts (upstream-facts/ in the repository) must describe the versions versions.ts
// pins: a version bump without refreshed facts fails here, naming the command, instead of
// validating the new charts against the old ones.
const missingFacts = factsProblems(defaultVersions);
if (missingFacts.length > 0) throw new Error(`no upstream facts for the pinned versions:\n${missingFacts.join("\n")}`);

// ---------------------------------------------------------------------------------------------
// Kubernetes objects
// ---------------------------------------------------------------------------------------------

/** A Kubernetes object as the program declares it. */
export interface KubernetesObject {
    apiVersion: string;
    kind: string;
    metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    [key: string]: unknown;
}

let crdValidators: Map<string, ValidateFunction> | undefined;

/** Validators keyed `group/version/Kind`, built from the upstream CRDs' `openAPIV3Schema`. */
function crdValidatorsByKind(): Map<string, ValidateFunction> {
    if (crdValidators) return crdValidators;
    // Kubernetes structural schemas use OpenAPI extensions (x-kubernetes-*) and formats such as
    // int32; the checks that matter here are types, required fields, enums and unknown fields.
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    crdValidators = new Map();
    for (const crd of crdFactsOfAllPins()) {
        for (const { versions, openAPIV3Schema } of crd.schemas) {
            // apiVersion, kind and metadata are the API server's to check; any other
            // top-level field (a misspelt `spec`) is pruned by it, so it fails here.
            const closedSchema = closeObjects(openAPIV3Schema) as { properties?: Record<string, object> };
            const closed = {
                ...closedSchema,
                properties: {
                    apiVersion: { type: "string" },
                    kind: { type: "string" },
                    metadata: { type: "object" },
                    ...closedSchema.properties,
                },
                additionalProperties: false,
            };
            const validate = ajv.compile(closed);
            for (const version of versions) crdValidators.set(`${crd.group}/${version}/${crd.kind}`, validate);
        }
    }
    return crdValidators;
}

/**
 * API group suffixes (`istio.io`, `spiffe.io`, `cert-manager.io`) whose kinds the facts carry
 * schemas for: an object of such a group without a schema in the facts is a kind the program
 * started emitting without its schema being extracted, so it is a problem rather than unchecked.
 */
function factsGroupSuffixes(): Set<string> {
    return new Set(crdFactsOfAllPins().map((crd) => crd.group.split(".").slice(-2).join(".")));
}

/**
 * The API server prunes fields a structural schema does not declare, silently; for a test that is
 * a failure, so every object schema with declared properties rejects unknown ones (except where
 * the schema keeps them with x-kubernetes-preserve-unknown-fields).
 */
function closeObjects(schema: unknown): object {
    if (Array.isArray(schema)) return schema.map(closeObjects);
    if (schema === null || typeof schema !== "object") return schema as object;
    const copy: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(schema)) {
        copy[key] = key === "properties" ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, closeObjects(v)])) : closeObjects(value);
    }
    if (
        copy.type === "object" &&
        copy.properties &&
        copy.additionalProperties === undefined &&
        copy["x-kubernetes-preserve-unknown-fields"] !== true
    ) {
        copy.additionalProperties = false;
    }
    return copy;
}

const dnsSubdomainPattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dnsLabelPattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

interface AttributeType {
    baseName: string;
    type: string;
}
type ClientModels = Record<string, { getAttributeTypeMap?: () => AttributeType[] } | undefined>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const clientModels = require("@kubernetes/client-node") as ClientModels;

/** The attribute map of a @kubernetes/client-node model class (e.g. V1ServiceSpec), if one exists. */
function attributesOf(typeName: string): AttributeType[] | undefined {
    return clientModels[typeName]?.getAttributeTypeMap?.();
}

/**
 * Fields of a built-in kind that Kubernetes does not define. kubernetes-models' validators accept
 * unknown fields, and the API server drops them without a word (a misspelt `volumes` leaves a pod
 * without its volume); the typed models of @kubernetes/client-node list every field of every
 * built-in type, so the object is walked against them.
 */
export function unknownCoreFields(object: KubernetesObject): string[] {
    const [group, version] = object.apiVersion.includes("/") ? object.apiVersion.split("/") : ["", object.apiVersion];
    const builtIn = group === "" || group === "apps" || group === "batch" || group.endsWith(".k8s.io");
    if (!builtIn) return [];
    const rootType = `${version.charAt(0).toUpperCase()}${version.slice(1)}${object.kind}`;
    if (!attributesOf(rootType)) return [`${object.kind}: no field list for ${rootType}`];
    const problems: string[] = [];
    const walk = (value: unknown, typeName: string, path: string): void => {
        const array = /^Array<(.+)>$/.exec(typeName);
        if (array) {
            if (Array.isArray(value)) value.forEach((item, index) => walk(item, array[1], `${path}[${index}]`));
            return;
        }
        const map = /^\{ \[key: string\]: (.+); \}$/.exec(typeName);
        if (map) {
            if (value && typeof value === "object") for (const [key, item] of Object.entries(value)) walk(item, map[1], `${path}.${key}`);
            return;
        }
        const attributes = attributesOf(typeName);
        if (!attributes || value === null || typeof value !== "object" || Array.isArray(value)) return;
        for (const [key, item] of Object.entries(value)) {
            const attribute = attributes.find((a) => a.baseName === key);
            if (!attribute) problems.push(`${object.kind} ${path}.${key}: not a field of ${typeName}`);
            else walk(item, attribute.type, `${path}.${key}`);
        }
    };
    walk(object, rootType, "");
    return problems;
}

type ModelClass = new (data: object) => { validate(): void };

/** The kubernetes-models class for an apiVersion/kind, when a models package covers it. */
function modelClass(apiVersion: string, kind: string): ModelClass | undefined {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    const candidates: string[] = [];
    if (group === "") candidates.push(`kubernetes-models/${version}/${kind}`);
    else if (group.endsWith("cert-manager.io")) candidates.push(`@kubernetes-models/cert-manager/${group}/${version}/${kind}`);
    else if (group.endsWith("istio.io")) {
        // The models package stops at v1beta1 for Istio; v1 has the same schema (v1 was a
        // promotion without changes), and the upstream CRD is checked as well.
        const modelVersion = version === "v1" ? "v1beta1" : version;
        candidates.push(`@kubernetes-models/istio/${group}/${modelVersion}/${kind}`);
    } else candidates.push(`kubernetes-models/${group}/${version}/${kind}`);
    for (const candidate of candidates) {
        const path = join(projectRoot, "node_modules", `${candidate}.js`);
        if (!existsSync(path)) continue;
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const module = require(path) as Record<string, ModelClass>;
        return module[kind];
    }
    return undefined;
}

/**
 * Problems of one object against the real schemas: kubernetes-models for core, cert-manager and
 * Istio kinds, the upstream CRDs (from upstream-facts/) for Istio, SPIRE and cert-manager kinds. Empty when valid; an object that no
 * schema covers is itself a problem, so nothing slips through unchecked.
 */
export function validateKubernetesObject(object: KubernetesObject): string[] {
    const problems: string[] = [];
    const kind = object.kind;
    const [group, version] = object.apiVersion.includes("/") ? object.apiVersion.split("/") : ["", object.apiVersion];
    let checked = false;

    const Model = modelClass(object.apiVersion, object.kind);
    if (Model) {
        checked = true;
        try {
            const data = group.endsWith("istio.io") && version === "v1" ? { ...object, apiVersion: `${group}/v1beta1` } : object;
            new Model(data).validate();
        } catch (error) {
            problems.push(`${object.kind}: ${(error as Error).message}`);
        }
    }
    const crd = crdValidatorsByKind().get(`${group}/${version}/${object.kind}`);
    if (!crd && [...factsGroupSuffixes()].some((suffix) => group === suffix || group.endsWith(`.${suffix}`))) {
        problems.push(
            `${object.apiVersion} ${kind}: no structural schema in upstream-facts; add the kind to factsSets (scripts/upstream-facts/layout.ts) and run npm run facts:refresh`,
        );
    }
    if (crd) {
        checked = true;
        const valid: boolean = crd(object as unknown);
        if (!valid) {
            for (const error of crd.errors ?? []) {
                problems.push(`${kind} ${error.instancePath || "/"}: ${error.message} ${JSON.stringify(error.params)}`);
            }
        }
    }
    problems.push(...unknownCoreFields(object));
    // The API server checks names before any schema; neither models nor CRD schemas do.
    const { name, namespace } = object.metadata ?? {};
    if (typeof name === "string" && !(name.length <= 253 && dnsSubdomainPattern.test(name))) {
        problems.push(`${kind} metadata.name ${JSON.stringify(name)}: not a DNS-1123 subdomain`);
    }
    if (typeof namespace === "string" && !(namespace.length <= 63 && dnsLabelPattern.test(namespace))) {
        problems.push(`${kind} metadata.namespace ${JSON.stringify(namespace)}: not a DNS-1123 label`);
    }
    if (!checked) problems.push(`${object.apiVersion} ${object.kind}: no schema available to validate it`);
    return problems;
}

/** Pulumi resource types that are not Kubernetes objects themselves. */
const nonObjectTypes = new Set(["kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"]);

/** Every Kubernetes object the program declared directly (not rendered by charts), with its resource. */
export function kubernetesObjectsOf<T>(run: ProgramRun<T>): { resource: DeclaredResource; object: KubernetesObject }[] {
    return run.resources
        .filter((r) => r.custom && r.type.startsWith("kubernetes:") && !nonObjectTypes.has(r.type))
        .map((resource) => ({ resource, object: resource.inputs as KubernetesObject }));
}

// ---------------------------------------------------------------------------------------------
// Helm values
// ---------------------------------------------------------------------------------------------

export type ChartName = "istio-base" | "istiod" | "istio-gateway" | "spire" | "spire-crds" | "cert-manager";

/** Which pinned release and chart holds each chart's values facts, and the prefix user values are merged under. */
const chartValues: Record<ChartName, { pin: "istio" | "spireChart" | "spireCrdsChart" | "certManager"; chart: string; root?: string }> = {
    "istio-base": { pin: "istio", chart: "base", root: "_internal_defaults_do_not_set" },
    istiod: { pin: "istio", chart: "istiod", root: "_internal_defaults_do_not_set" },
    "istio-gateway": { pin: "istio", chart: "gateway", root: "_internal_defaults_do_not_set" },
    spire: { pin: "spireChart", chart: "spire" },
    "spire-crds": { pin: "spireCrdsChart", chart: "spire-crds" },
    "cert-manager": { pin: "certManager", chart: "cert-manager" },
};

/**
 * Subtrees a chart documents as free-form (maps the chart passes through as they are), so any key
 * below them is accepted. Each entry says why; everything else must exist in values.yaml.
 */
export const freeFormValues: Record<ChartName, Record<string, string>> = {
    "istio-base": {},
    istiod: {
        "meshConfig": "MeshConfig proto passed through to the mesh ConfigMap; checked against meshConfigFields",
        "global.meshNetworks": "network map keyed by network name, rendered into meshNetworks",
        "sidecarInjectorWebhook.templates": "custom injection templates keyed by template name",
        "pilot.env": "environment variables of istiod",
        "env": "environment variables of istiod",
        "global.enableReaderRBAC":
            "not in values.yaml, but read with a default of true by templates/reader-clusterrole.yaml:2 and reader-clusterrolebinding.yaml:2",
    },
    "istio-gateway": {
        env: "environment variables of the gateway proxy",
        labels: "labels added to the gateway pods and Service",
        podAnnotations: "annotations added to the gateway pods",
        "service.annotations": "annotations of the gateway Service",
    },
    spire: {},
    "spire-crds": { annotations: "annotations of the CRDs" },
    "cert-manager": {},
};

const valuesCache = new Map<ChartName, ValuesFacts>();
function valuesFacts(chart: ChartName): ValuesFacts {
    if (!valuesCache.has(chart)) valuesCache.set(chart, chartValuesFacts(chartValues[chart].pin, chartValues[chart].chart));
    return valuesCache.get(chart)!;
}

/** Default values of a chart that a test reads (kept in the facts by `keptDefaults`), below its root. */
export function chartDefaults(chart: ChartName): Record<string, unknown> {
    const { defaults } = valuesFacts(chart);
    const root = chartValues[chart].root;
    if (!defaults) throw new Error(`${chart}: the facts keep no defaults; add them to keptDefaults and refresh`);
    return (root ? defaults[root] : defaults) as Record<string, unknown>;
}

function lookup(tree: unknown, segments: string[]): { found: boolean; value?: unknown } {
    let node = tree;
    for (const segment of segments) {
        if (node === null || typeof node !== "object" || Array.isArray(node) || !(segment in (node as object))) {
            return { found: false };
        }
        node = (node as Record<string, unknown>)[segment];
    }
    return { found: true, value: node };
}

/** Leaf paths of a values object; arrays and empty maps count as leaves. */
export function valuePaths(values: unknown, prefix: string[] = []): string[][] {
    if (values === null || typeof values !== "object" || Array.isArray(values) || Object.keys(values).length === 0) {
        return [prefix];
    }
    return Object.entries(values).flatMap(([key, value]) => valuePaths(value, [...prefix, key]));
}

/** True when `segments` names a value the chart declares, or lies in a declared open map. */
function declared(chart: ChartName, segments: string[]): boolean {
    const open = Object.keys(freeFormValues[chart]);
    for (let length = segments.length; length > 0; length--) {
        if (open.includes(segments.slice(0, length).join("."))) return true;
    }
    const { root } = chartValues[chart];
    const facts = valuesFacts(chart);
    const candidates: { tree: ValueTypes | undefined; path: string[] }[] = [];
    const subchart = facts.subcharts?.[segments[0]];
    if (subchart) candidates.push({ tree: facts.subchartTypes?.[subchart], path: segments.slice(1) });
    const tree = facts.types;
    candidates.push({ tree: root ? (tree[root] as ValueTypes) : tree, path: segments });
    // istiod copies `pilot.*` to the top level; a user may set either form.
    if (chart === "istiod" && segments[0] !== "pilot") {
        candidates.push({ tree: tree[root!] as ValueTypes, path: ["pilot", ...segments] });
    }
    for (const { tree: candidateTree, path } of candidates) {
        // Walk down; a declared empty map (`{}`) or a list accepts whatever is set below it.
        for (let length = path.length; length > 0; length--) {
            const { found, value } = lookup(candidateTree, path.slice(0, length));
            if (!found) continue;
            if (length === path.length) return true;
            const isOpen = value === "array" || (value !== null && typeof value === "object" && Object.keys(value).length === 0);
            return isOpen;
        }
    }
    return false;
}

/** Value paths set on a chart that its values.yaml does not declare: typos Helm would ignore. */
export function unknownHelmValuePaths(chart: ChartName, values: unknown): string[] {
    return valuePaths(values)
        .filter((segments) => segments.length > 0 && !declared(chart, segments))
        .map((segments) => segments.join("."));
}

const valuesSchemas = new Map<string, ValidateFunction>();

/** Problems of chart values against a chart's own values.schema.json (gateway, cert-manager). */
export function validateChartValuesSchema(chart: "istio-gateway" | "cert-manager", values: unknown): string[] {
    let validate = valuesSchemas.get(chart);
    if (!validate) {
        const schema = chartValuesSchema(chartValues[chart].pin, chartValues[chart].chart);
        validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
        valuesSchemas.set(chart, validate);
    }
    if (validate(values)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || "/"}: ${e.message} ${JSON.stringify(e.params)}`);
}

/** Problems of gateway chart values against the chart's own values.schema.json. */
export function validateGatewayValues(values: unknown): string[] {
    return validateChartValuesSchema("istio-gateway", values);
}

// ---------------------------------------------------------------------------------------------
// Istio MeshConfig (istiod's `meshConfig` value)
// ---------------------------------------------------------------------------------------------

/**
 * JSON names of the fields of `istio.mesh.v1alpha1.MeshConfig` at Istio 1.30.3 (istio/api tag
 * 1.30.3, mesh/v1alpha1/config.proto; oneof members included, reserved fields not). The istiod
 * chart has no schema and writes `meshConfig` verbatim into the mesh ConfigMap, where istiod
 * rejects an unknown field at startup, so the tests check keys here instead.
 */
export const meshConfigFields = [
    "proxyListenPort", "proxyInboundListenPort", "proxyHttpPort", "connectTimeout", "hboneIdleTimeout",
    "protocolDetectionTimeout", "tcpKeepalive", "ingressClass", "ingressService", "ingressControllerMode",
    "ingressSelector", "enableTracing", "accessLogFile", "accessLogFormat", "accessLogEncoding",
    "enableEnvoyAccessLogService", "disableEnvoyListenerLog", "defaultConfig", "outboundTrafficPolicy",
    "inboundTrafficPolicy", "configSources", "enableAutoMtls", "trustDomain", "trustDomainAliases",
    "caCertificates", "defaultServiceExportTo", "defaultVirtualServiceExportTo", "defaultDestinationRuleExportTo",
    "rootNamespace", "localityLbSetting", "dnsRefreshRate", "h2UpgradePolicy", "inboundClusterStatName",
    "outboundClusterStatName", "certificates", "serviceSettings", "serviceScopeConfigs", "enablePrometheusMerge",
    "verifyCertificateAtClient", "ca", "extensionProviders", "defaultProviders", "discoverySelectors",
    "pathNormalization", "defaultHttpRetryPolicy", "meshMTLS", "tlsDefaults",
] as const;

/**
 * JSON names of the fields of `istio.mesh.v1alpha1.ProxyConfig` (mesh/v1alpha1/proxy.proto at the
 * same tag): what `meshConfig.defaultConfig` may hold.
 */
export const proxyConfigFields = [
    "configPath", "binaryPath", "serviceCluster", "tracingServiceName", "drainDuration", "discoveryAddress",
    "discoveryRefreshDelay", "zipkinAddress", "statsdUdpAddress", "envoyMetricsServiceAddress", "proxyAdminPort",
    "availabilityZone", "controlPlaneAuthPolicy", "customConfigFile", "statNameLength", "concurrency",
    "proxyBootstrapTemplatePath", "interceptionMode", "tracing", "sds", "envoyAccessLogService",
    "envoyMetricsService", "proxyMetadata", "runtimeValues", "statusPort", "extraStatTags", "gatewayTopology",
    "terminationDrainDuration", "meshId", "readinessProbe", "proxyStatsMatcher", "holdApplicationUntilProxyStarts",
    "caCertificatesPem", "image", "privateKeyProvider", "proxyHeaders", "fileFlushInterval", "fileFlushMinSizeKb",
    "statsCompression",
] as const;

/**
 * Problems of an istiod `meshConfig` value: keys that MeshConfig or ProxyConfig do not declare,
 * and `proxyMetadata` entries that are not strings (it is a map<string, string>).
 */
export function meshConfigProblems(meshConfig: Record<string, unknown>): string[] {
    const problems: string[] = [];
    const meshFields: readonly string[] = meshConfigFields;
    const proxyFields: readonly string[] = proxyConfigFields;
    for (const key of Object.keys(meshConfig)) {
        if (!meshFields.includes(key)) problems.push(`meshConfig.${key}: not a MeshConfig field`);
    }
    const defaultConfig = meshConfig.defaultConfig as Record<string, unknown> | undefined;
    for (const key of Object.keys(defaultConfig ?? {})) {
        if (!proxyFields.includes(key)) problems.push(`meshConfig.defaultConfig.${key}: not a ProxyConfig field`);
    }
    const metadata = (defaultConfig?.proxyMetadata ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(metadata)) {
        if (typeof value !== "string") problems.push(`meshConfig.defaultConfig.proxyMetadata.${key}: ${typeof value}, not a string`);
    }
    return problems;
}
