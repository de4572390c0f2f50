/**
 * What a primary's istiod reads in a REMOTE cluster of a multi-primary mesh (istio 1.30.3, the
 * settings of the rendered istiod Deployment), and a live probe that runs a scratch istiod with a
 * remote secret whose credential is bound to a given rule set, to see which rule set lets the
 * peer sync and what istiod says when one is missing.
 *
 * Every remote cluster gets one kube client (pkg/kube/multicluster/secretcontroller.go:386-398),
 * on which each multicluster component registers informers while the cluster is added; the
 * cluster is `synced` only once the client's informers have all synced
 * (pkg/kube/multicluster/cluster.go:242 `c.Client.RunAndWait`, then :248-273). An informer whose
 * list is forbidden never syncs: the cluster stays `syncing` until PILOT_REMOTE_CLUSTER_TIMEOUT
 * (30 s, pilot/pkg/features/pilot.go:130-135) marks it `timeout` (cluster.go:199-212).
 */

/** One RBAC rule a remote istiod needs, with where Istio 1.30.3 reads it. */
export interface RemoteRead {
    apiGroup: string;
    resource: string;
    verbs: string[];
    /** Limited to one namespace (a Role there), when the read is namespaced. */
    namespace?: string;
    /** Limited to named objects (`resourceNames`), when the read is. */
    names?: string[];
    /** The code path, `file:line` in istio 1.30.3. */
    readBy: string;
}

/**
 * Read by default in every remote cluster, from the source (istio 1.30.3); each entry is an
 * informer on the remote client, so each blocks the cluster's sync when forbidden.
 */
export const remoteReads: RemoteRead[] = [
    {
        apiGroup: "",
        resource: "namespaces",
        verbs: ["get", "list", "watch"],
        readBy: "discovery-namespace filter pkg/kube/multicluster/cluster.go:219; registry pilot/pkg/serviceregistry/kube/controller/controller.go:264 (the peer network from istio-system's label); injector pkg/kube/inject/webhook.go:216",
    },
    {
        apiGroup: "",
        resource: "services",
        verbs: ["get", "list", "watch"],
        readBy: "pkg/kube/multicluster/cluster.go:313; pilot/pkg/serviceregistry/kube/controller/controller.go:300",
    },
    {
        apiGroup: "discovery.k8s.io",
        resource: "endpointslices",
        verbs: ["get", "list", "watch"],
        readBy: "pkg/kube/multicluster/cluster.go:331; pilot/pkg/serviceregistry/kube/controller/endpointslice.go:54",
    },
    {
        apiGroup: "",
        resource: "pods",
        verbs: ["get", "list", "watch"],
        readBy: "pkg/kube/multicluster/cluster.go:295; pilot/pkg/serviceregistry/kube/controller/controller.go:310; CA node authorizer security/pkg/server/ca/node_auth.go:72 (CA_TRUSTED_NODE_ACCOUNTS, which the chart sets)",
    },
    {
        apiGroup: "",
        resource: "nodes",
        verbs: ["get", "list", "watch"],
        readBy: "pkg/kube/multicluster/cluster.go:321; pilot/pkg/serviceregistry/kube/controller/controller.go:307; pkg/kube/inject/webhook.go:221",
    },
    {
        apiGroup: "",
        resource: "configmaps",
        verbs: ["get", "list", "watch"],
        namespace: "istio-system",
        names: ["istio"],
        readBy: "the remote cluster's mesh config (trust domain): pilot/pkg/serviceregistry/kube/controller/multicluster.go:133-149 -> pkg/config/mesh/kubemesh/watcher.go:39-48 (field selector metadata.name=istio)",
    },
    {
        apiGroup: "",
        resource: "secrets",
        verbs: ["get", "list", "watch"],
        readBy: "gateway credentials of proxies in that cluster: pilot/pkg/credentials/kube/multicluster.go:40-44 -> secrets.go:94-98 (every type but helm releases and SA tokens), built for every cluster when PILOT_ENABLE_XDS_IDENTITY_CHECK is true (its default, pilot/pkg/features/security.go:39-43; pilot/pkg/bootstrap/server.go:543-547)",
    },
    {
        apiGroup: "apiextensions.k8s.io",
        resource: "customresourcedefinitions",
        verbs: ["get", "list", "watch"],
        readBy: "the remote client's CRD watcher, on when PILOT_ENABLE_CROSS_CLUSTER_WORKLOAD_ENTRY is true (default): pkg/kube/multicluster/secretcontroller.go:393-396, pilot/pkg/features/pilot.go:155",
    },
    {
        apiGroup: "networking.istio.io",
        resource: "workloadentries",
        verbs: ["get", "list", "watch"],
        readBy: "WorkloadEntries selected by the remote cluster's Services: pilot/pkg/serviceregistry/kube/controller/multicluster.go:199-219 (PILOT_ENABLE_K8S_SELECT_WORKLOAD_ENTRIES and ..._CROSS_CLUSTER_WORKLOAD_ENTRY, both default true); a delayed informer, watched once its CRD exists (Istio's base chart installs it)",
    },
    {
        apiGroup: "gateway.networking.k8s.io",
        resource: "gateways",
        verbs: ["get", "list", "watch"],
        readBy: "pkg/kube/multicluster/cluster.go:306; network gateways pilot/pkg/serviceregistry/kube/controller/network.go:85-86 (PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API, default true); a delayed informer: only read once the Gateway API CRDs exist in the cluster",
    },
];

/** Not read from a remote cluster of a multi-primary mesh with the chart's settings, though the stock reader role grants them. */
export const notReadRemotely = [
    "serviceexports/serviceimports (multicluster.x-k8s.io): only with ENABLE_MCS_SERVICE_DISCOVERY / ENABLE_MCS_HOST / ENABLE_MCS_AUTO_EXPORT (default false: pilot/pkg/features/experimental.go:75-100; serviceexportcache.go:58, serviceimportcache.go:74, multicluster.go:306)",
    "create on serviceexports: only the MCS auto-export controller (ENABLE_MCS_AUTO_EXPORT, default false)",
    "tokenreviews/subjectaccessreviews: a remote cluster's credentials are used to authorize proxies of that cluster (pilot/pkg/credentials/kube/multicluster.go:48-66), i.e. proxies connected to this istiod from the remote cluster (primary-remote), never in multi-primary where each cluster's proxies use their own istiod",
    "mutating/validating webhook configurations, leases: only when this istiod leads the remote cluster (EXTERNAL_ISTIOD and the topology.istio.io/controlPlaneClusters annotation: multicluster.go:238-302, 333-370)",
    "the other Istio kinds (networking/security/telemetry.istio.io...): config is read from the config cluster only",
    "endpoints, replicationcontrollers, replicasets: no informer in 1.30.3's registry (EndpointSlices replaced Endpoints)",
];

interface PolicyRule {
    apiGroups: string[];
    resources: string[];
    verbs: string[];
    resourceNames?: string[];
}

/** The cluster-wide rules and the namespaced ones (per namespace) of a set of reads. */
export function rulesOf(reads: RemoteRead[]): { cluster: PolicyRule[]; namespaced: Record<string, PolicyRule[]> } {
    const cluster: PolicyRule[] = [];
    const namespaced: Record<string, PolicyRule[]> = {};
    for (const read of reads) {
        const rule: PolicyRule = { apiGroups: [read.apiGroup], resources: [read.resource], verbs: read.verbs, ...(read.names ? { resourceNames: read.names } : {}) };
        if (read.namespace === undefined) cluster.push(rule);
        else (namespaced[read.namespace] ??= []).push(rule);
    }
    return { cluster, namespaced };
}

/** `reads` without the entries for `resources` (`endpointslices`, `secrets`...). */
export function without(reads: RemoteRead[], ...resources: string[]): RemoteRead[] {
    const unknown = resources.filter((resource) => !reads.some((read) => read.resource === resource));
    if (unknown.length > 0) throw new Error(`not among the reads: ${unknown.join(", ")}`);
    return reads.filter((read) => !resources.includes(read.resource));
}

/**
 * Manifests (JSON, one per line for `kubectl apply -f -`) of a ServiceAccount in `namespace` bound
 * to exactly `reads`: a ClusterRole and binding for the cluster-wide ones, a Role and binding per
 * namespace for the others.
 */
export function readerManifests(name: string, namespace: string, reads: RemoteRead[]): object[] {
    const { cluster, namespaced } = rulesOf(reads);
    const subject = { kind: "ServiceAccount", name, namespace };
    const labels = { "e2e.spire-istio-mesh/probe": "reader-rbac" };
    const objects: object[] = [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels } },
        { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace, labels } },
        { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name, labels }, rules: cluster },
        { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name, labels }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name }, subjects: [subject] },
    ];
    for (const [where, rules] of Object.entries(namespaced)) {
        objects.push({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name, namespace: where, labels }, rules });
        objects.push({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name, namespace: where, labels }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name }, subjects: [subject] });
    }
    return objects;
}

/** The resources named as forbidden in istiod's log (for `user` only, when given) (client-go's reflector: `failed to list *v1.X: <resource> is forbidden: User "..." cannot list resource "<resource>"`). */
export function forbiddenInLog(log: string, user?: string): { resource: string; line: string }[] {
    const found = new Map<string, string>();
    for (const line of log.split("\n")) {
        if (user !== undefined && !line.includes(`User \\"${user}\\"`) && !line.includes(`User "${user}"`)) continue;
        const match = /cannot (?:list|watch|get) resource \\?"([^"\\]+)\\?"(?: in API group \\?"([^"\\]*)\\?")?/.exec(line);
        if (match === null) continue;
        const resource = match[2] ? `${match[1]}.${match[2]}` : match[1];
        if (!found.has(resource)) found.set(resource, line.trim());
    }
    return [...found].map(([resource, line]) => ({ resource, line }));
}
