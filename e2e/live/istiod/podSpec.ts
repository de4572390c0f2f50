/**
 * What a kubelet makes of a container before it starts it, for a host process standing in for
 * that container: its arguments and environment with every `valueFrom` resolved from the pod and
 * node objects the API server holds (kwok's simulated pod of the Deployment), and `$(VAR)`
 * references expanded. Pure: the objects come in as plain JSON, nothing is read here.
 */

/** The parts of a container spec the test bed reads (Kubernetes' own field names). */
export interface ContainerSpec {
    name: string;
    args?: string[];
    command?: string[];
    env?: EnvVar[];
    envFrom?: unknown[];
    ports?: { name?: string; containerPort: number; protocol?: string }[];
    readinessProbe?: { httpGet?: { path?: string; port: number | string; scheme?: string } };
    resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
    volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
}

export interface EnvVar {
    name: string;
    value?: string;
    valueFrom?: {
        fieldRef?: { fieldPath: string; apiVersion?: string };
        resourceFieldRef?: { resource: string; divisor?: string | number; containerName?: string };
        configMapKeyRef?: { name: string; key: string; optional?: boolean };
        secretKeyRef?: { name: string; key: string; optional?: boolean };
    };
}

/** A volume of the pod spec; only the kinds a rendered istiod uses are typed. */
export interface Volume {
    name: string;
    emptyDir?: { medium?: string };
    secret?: { secretName: string; optional?: boolean };
    configMap?: { name: string; optional?: boolean };
    projected?: {
        sources: {
            serviceAccountToken?: { audience?: string; expirationSeconds?: number; path: string };
            configMap?: { name: string; optional?: boolean };
            secret?: { name: string; optional?: boolean };
            clusterTrustBundle?: unknown;
        }[];
    };
}

export interface PodSpec {
    serviceAccountName?: string;
    nodeName?: string;
    containers: ContainerSpec[];
    volumes?: Volume[];
    automountServiceAccountToken?: boolean;
}

export interface Deployment {
    metadata: { name: string; namespace: string; uid?: string };
    spec: { selector: { matchLabels?: Record<string, string> }; template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec } };
}

/** The (simulated) pod the host process stands in for: where `fieldRef`s are read. */
export interface Pod {
    metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    spec: PodSpec;
    status?: { podIP?: string; hostIP?: string; podIPs?: { ip: string }[]; hostIPs?: { ip: string }[] };
}

/** The node the pod is bound to: where a `resourceFieldRef` to an unset limit is read, as the kubelet does. */
export interface Node {
    metadata: { name: string };
    status?: { allocatable?: Record<string, string>; capacity?: Record<string, string> };
}

/** Values of `configMapKeyRef`/`secretKeyRef`s, read beforehand: `namespace/name` -> key -> value. */
export interface KeyRefs {
    configMaps: Record<string, Record<string, string> | undefined>;
    secrets: Record<string, Record<string, string> | undefined>;
}

/** One environment variable as the kubelet would set it, and where its value came from. */
export interface ResolvedEnv {
    name: string;
    value: string;
    /** `value`, `fieldRef metadata.namespace`, `resourceFieldRef limits.cpu (node allocatable)`... */
    source: string;
}

/** The named container of a pod spec; the error names the containers there are. */
export function containerOf(spec: PodSpec, name: string): ContainerSpec {
    const container = spec.containers.find((c) => c.name === name);
    if (container === undefined) {
        throw new Error(`no container "${name}" in the pod spec; it has: ${spec.containers.map((c) => c.name).join(", ")}`);
    }
    return container;
}

/**
 * `$(NAME)` replaced by an earlier variable's value, `$$(` kept as a literal `$(`, and an unknown
 * reference left as written: the kubelet's expansion rules (k8s.io/kubernetes
 * third_party/forked/golang/expansion), which apply to `value`, `command` and `args`.
 */
export function expandReferences(text: string, defined: ReadonlyMap<string, string>): string {
    let out = "";
    for (let i = 0; i < text.length; i++) {
        if (text[i] === "$" && text[i + 1] === "$") {
            out += "$";
            i++;
            continue;
        }
        if (text[i] === "$" && text[i + 1] === "(") {
            const end = text.indexOf(")", i + 2);
            if (end > 0) {
                const name = text.slice(i + 2, end);
                const value = defined.get(name);
                out += value ?? text.slice(i, end + 1);
                i = end;
                continue;
            }
        }
        out += text[i];
    }
    return out;
}

/** A field path of the pod, as the downward API resolves it (the paths `fieldRef` accepts). */
export function podField(pod: Pod, fieldPath: string): string {
    const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
    if (keyed) return (keyed[1] === "labels" ? pod.metadata.labels : pod.metadata.annotations)?.[keyed[2]] ?? "";
    const fields: Record<string, () => string | undefined> = {
        "metadata.name": () => pod.metadata.name,
        "metadata.namespace": () => pod.metadata.namespace,
        "metadata.uid": () => pod.metadata.uid,
        "spec.nodeName": () => pod.spec.nodeName,
        "spec.serviceAccountName": () => pod.spec.serviceAccountName ?? "default",
        "status.podIP": () => pod.status?.podIP,
        "status.hostIP": () => pod.status?.hostIP,
        "status.podIPs": () => pod.status?.podIPs?.map((ip) => ip.ip).join(","),
        "status.hostIPs": () => pod.status?.hostIPs?.map((ip) => ip.ip).join(","),
    };
    const read = fields[fieldPath];
    if (read === undefined) throw new Error(`fieldRef ${fieldPath}: not a field the downward API offers; one of ${Object.keys(fields).join(", ")}, metadata.labels['KEY'], metadata.annotations['KEY']`);
    return read() ?? "";
}

/** A Kubernetes quantity in base units (cores for cpu, bytes for memory), enough for requests, limits and divisors. */
export function quantity(text: string | number): number {
    if (typeof text === "number") return text;
    const match = /^([0-9.]+)([a-zA-Z]*)$/.exec(text.trim());
    if (!match) throw new Error(`not a quantity: ${JSON.stringify(text)}`);
    const suffixes: Record<string, number> = {
        "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12,
        Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40,
    };
    const factor = suffixes[match[2]];
    if (factor === undefined) throw new Error(`quantity ${text}: unknown suffix ${match[2]}`);
    return Number(match[1]) * factor;
}

/**
 * A `resourceFieldRef`: the container's request or limit divided by the divisor and rounded up
 * (the kubelet's ExtractContainerResourceValue); an unset limit is the node's allocatable amount,
 * which is what the kubelet substitutes.
 */
export function resourceField(container: ContainerSpec, node: Node | undefined, ref: { resource: string; divisor?: string | number }): { value: string; source: string } {
    const [kind, resource] = ref.resource.split(".", 2) as ["limits" | "requests", string];
    if ((kind !== "limits" && kind !== "requests") || resource === undefined) throw new Error(`resourceFieldRef ${ref.resource}: want limits.X or requests.X`);
    let amount = container.resources?.[kind]?.[resource];
    let source = `resourceFieldRef ${ref.resource}`;
    if (amount === undefined && kind === "limits") {
        amount = node?.status?.allocatable?.[resource];
        if (amount === undefined) throw new Error(`resourceFieldRef ${ref.resource}: the container sets no limit and node ${node?.metadata.name ?? "(none)"} has no allocatable ${resource}`);
        source += ` (no limit set: node ${node?.metadata.name} allocatable ${amount}, as the kubelet substitutes)`;
    }
    if (amount === undefined) return { value: "0", source: `${source} (unset)` };
    const divisor = quantity(ref.divisor ?? 1);
    return { value: String(Math.ceil(quantity(amount) / divisor - 1e-9)), source };
}

/**
 * The container's environment as the kubelet sets it: literal values with `$(VAR)` expanded,
 * `fieldRef` from the pod, `resourceFieldRef` from the container and node, key references from
 * `keyRefs`. `envFrom` is refused (the rendered istiod has none; resolving it is not written).
 */
export function resolveEnv(container: ContainerSpec, pod: Pod, node: Node | undefined, keyRefs: KeyRefs = { configMaps: {}, secrets: {} }): ResolvedEnv[] {
    if (container.envFrom !== undefined && container.envFrom.length > 0) {
        throw new Error(`container ${container.name}: envFrom is not resolved by the test bed; list the variables in env`);
    }
    const defined = new Map<string, string>();
    const resolved: ResolvedEnv[] = [];
    for (const variable of container.env ?? []) {
        let value: string;
        let source: string;
        const from = variable.valueFrom;
        if (from?.fieldRef) {
            value = podField(pod, from.fieldRef.fieldPath);
            source = `fieldRef ${from.fieldRef.fieldPath}`;
        } else if (from?.resourceFieldRef) {
            ({ value, source } = resourceField(container, node, from.resourceFieldRef));
        } else if (from?.configMapKeyRef || from?.secretKeyRef) {
            const ref = (from.configMapKeyRef ?? from.secretKeyRef)!;
            const kind = from.configMapKeyRef ? "configMaps" : "secrets";
            const data = keyRefs[kind][`${pod.metadata.namespace}/${ref.name}`];
            const found = data?.[ref.key];
            if (found === undefined && !ref.optional) throw new Error(`env ${variable.name}: ${kind === "configMaps" ? "ConfigMap" : "Secret"} ${pod.metadata.namespace}/${ref.name} has no key ${ref.key}`);
            if (found === undefined) continue;
            value = found;
            source = `${kind === "configMaps" ? "configMapKeyRef" : "secretKeyRef"} ${ref.name}/${ref.key}`;
        } else {
            value = expandReferences(variable.value ?? "", defined);
            source = "value";
        }
        defined.set(variable.name, value);
        resolved.push({ name: variable.name, value, source });
    }
    return resolved;
}

/** The container's arguments with `$(VAR)` references to its environment expanded, as the kubelet does. */
export function resolveArgs(container: ContainerSpec, env: ResolvedEnv[]): string[] {
    const defined = new Map(env.map((variable) => [variable.name, variable.value]));
    return (container.args ?? []).map((arg) => expandReferences(arg, defined));
}
