import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { peerReaderServiceAccountPrefix } from "../lib/peerReader";
import { inCluster, MeshCluster } from "./meshCluster";
import { federatedTrustDomainObjectName } from "./spireFederatedDomain";

/**
 * The credentials this cluster hands to its peers' istiod: one ServiceAccount (and long-lived
 * token) per peer trust domain, bound to a ClusterRole of the program's own that grants exactly
 * what a remote istiod of Istio 1.30.3 reads in a multi-primary mesh, and no Secrets.
 *
 * It replaces Istio's stock reader (`global.enableReaderRBAC`, off in both charts): the istiod
 * chart's `istio-reader-clusterrole-*` (templates/reader-clusterrole.yaml) grants get/list/watch on
 * every Secret of the cluster, create/delete on MCS ServiceExports, TokenReviews and
 * SubjectAccessReviews, and one token of it was shared by every peer.
 */

/** One rule of a (Cluster)Role, as the Kubernetes API writes it. */
export interface PolicyRule {
    apiGroups: string[];
    resources: string[];
    verbs: string[];
    resourceNames?: string[];
}

const read = ["get", "list", "watch"];

/**
 * What a remote istiod reads cluster-wide, rule by rule, with the Istio 1.30.3 code that reads it
 * (istio/istio tag 1.30.3). Istio builds every informer of a remote cluster from its remote
 * secret's kubeconfig (pkg/kube/multicluster/secretcontroller.go:382-399) and then:
 *
 * - namespaces: the discovery-namespace filter every other informer goes through
 *   (pkg/kube/multicluster/cluster.go:219-227, 289) and the network label of the system namespace
 *   (pilot/pkg/serviceregistry/kube/controller/controller.go:264-278);
 * - services: the service registry (controller.go:300; cluster.go:313); with `meshNetworks`
 *   `registryServiceName` istiod also finds the peer's east-west gateway address here;
 * - pods: endpoints' workloads and identities (controller.go:310-317; cluster.go:295);
 * - nodes: locality and NodePort gateway addresses (controller.go:307; cluster.go:321), and the
 *   injector's multicluster node view with native sidecars on, as here (pkg/kube/inject/webhook.go:220-224);
 * - endpointslices: the endpoints themselves (controller/endpointslice.go:54; cluster.go:331);
 * - customresourcedefinitions: the CRD watcher that starts the "delayed" informers below only once
 *   their CRD exists (secretcontroller.go:394-396, on because
 *   PILOT_ENABLE_CROSS_CLUSTER_WORKLOAD_ENTRY defaults to true, pilot/pkg/features/pilot.go:155);
 * - gateway.networking.k8s.io gateways: network gateways declared through the Gateway API
 *   (controller/network.go:84-88, PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API defaults to true,
 *   pilot.go:233; cluster.go:306);
 * - networking.istio.io workloadentries: cross-cluster WorkloadEntries selected by Services
 *   (controller/multicluster.go:199-219 and 372-383; PILOT_ENABLE_K8S_SELECT_WORKLOAD_ENTRIES and
 *   PILOT_ENABLE_CROSS_CLUSTER_WORKLOAD_ENTRY default to true, pilot.go:119 and 155).
 *
 * Deliberately left out:
 * - secrets. istiod starts a credentials controller for every remote cluster that lists and
 *   watches Secrets cluster-wide for gateway TLS (pilot/pkg/credentials/kube/multicluster.go:40-44,
 *   secrets.go:94-98). It serves only proxies of that cluster that connect to this istiod; in a
 *   multi-primary mesh each proxy connects to its own cluster's istiod, so nothing here uses it.
 *   Without the grant that informer never syncs, so the remote cluster's client never finishes
 *   waiting for its informers (pkg/kube/multicluster/cluster.go:242, pkg/kube/client.go:767-800),
 *   its sync is reported as timed out after PILOT_REMOTE_CLUSTER_TIMEOUT (30 s, pilot.go:130-135;
 *   cluster.go:199-214) and istiod logs the refused list; its service registry is registered at
 *   once and serves the peer's services and endpoints regardless
 *   (controller/multicluster.go:233-236). No rule can narrow Secrets to the types that controller
 *   wants (RBAC has no field selectors), so granting any list would hand peers every Secret,
 *   CA keys and other peers' tokens included.
 * - MCS serviceexports/serviceimports: read only with ENABLE_MCS_SERVICE_DISCOVERY / ENABLE_MCS_HOST
 *   and written only with ENABLE_MCS_AUTO_EXPORT, all off by default
 *   (pilot/pkg/features/experimental.go:75-95; controller/serviceexportcache.go:57-63,
 *   serviceimportcache.go:73-79, multicluster.go:305-330).
 * - endpoints, replicasets, replicationcontrollers and the Istio config groups the stock role lists:
 *   no remote informer of 1.30.3 reads them (a remote cluster contributes services and workloads,
 *   not Istio config: only its WorkloadEntries, above).
 * - tokenreviews and subjectaccessreviews (create): used to authenticate and authorize proxies of
 *   the remote cluster that connect to this istiod (security/pkg/server/ca/authenticate/kubeauth/
 *   kube_jwt.go:130-160; credentials/kube/secrets.go:190-217), which multi-primary proxies do not.
 */
export const peerReaderClusterRules: readonly PolicyRule[] = [
    { apiGroups: [""], resources: ["namespaces", "nodes", "pods", "services"], verbs: read },
    { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: read },
    { apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], verbs: read },
    { apiGroups: ["gateway.networking.k8s.io"], resources: ["gateways"], verbs: read },
    { apiGroups: ["networking.istio.io"], resources: ["workloadentries"], verbs: read },
];

/** Name of the mesh ConfigMap in `istio-system` (the default revision's). */
export const meshConfigMapName = "istio";

/**
 * What a remote istiod reads in the peer's `istio-system`: that cluster's own mesh config, from
 * which it takes the peer's trust domain for the identities (SANs) of the peer's endpoints
 * (controller/multicluster.go:131-149 builds the watcher, pkg/config/mesh/watchers.go:87-96 prefers
 * the remote trust domain, controller/endpoint_builder.go:55 and kube/conversion.go:81 use it). The
 * informer lists by `metadata.name` (pkg/config/mesh/kubemesh/watcher.go:38-42), which the API
 * server authorizes against `resourceNames`, so the rule names the one ConfigMap.
 */
export const peerReaderMeshConfigRules: readonly PolicyRule[] = [
    { apiGroups: [""], resources: ["configmaps"], resourceNames: [meshConfigMapName], verbs: read },
];


/** Label on every object of a peer's credential; its value is the peer's trust domain object name. */
export const peerReaderLabel = "spire-istio-mesh/peer-reader";

/** Names of the cluster-wide ClusterRole and the Role in `istio-system` every peer reader is bound to. */
export const peerReaderRoleName = "spire-istio-mesh-peer-reader";

/**
 * The Kubernetes name that stands for a peer trust domain: the same one its
 * ClusterFederatedTrustDomain has (`-` and a short hash where the trust domain holds `_`).
 */
export const peerObjectName = federatedTrustDomainObjectName;

/** The ServiceAccount a peer trust domain's istiod authenticates as in this cluster. */
export function peerReaderServiceAccountName(trustDomain: string): string {
    return `${peerReaderServiceAccountPrefix}${peerObjectName(trustDomain)}`;
}

/** The API server credentials one peer's istiod uses to watch this cluster. */
export interface ReaderCredentials {
    /** Base64 PEM of the CA that signed the API server's certificate (kubeconfig form). */
    caCertificateBase64: string;
    /** The peer's own reader token, decoded. */
    token: string;
}

export interface PeerReadersArgs {
    /** The cluster the peers read; every object goes through its provider. */
    cluster: MeshCluster;
    /** Name of `istio-system` (an output of its Namespace): the ServiceAccounts and the mesh ConfigMap live there. */
    namespace: pulumi.Input<string>;
    /**
     * The trust domains whose istiod may read this cluster, one credential each: every other domain
     * of this stack and every peer-stack domain this stack approves. Removing one deletes its
     * ServiceAccount and token, which revokes exactly that peer.
     */
    peerTrustDomains: string[];
}

/**
 * The per-peer reader credentials of one cluster. Each credential is a ServiceAccount, its
 * bindings to the shared ClusterRole and Role, and a `kubernetes.io/service-account-token` Secret
 * (the only declarative token; it never expires). Deleting the Secret or the ServiceAccount makes
 * the API server refuse the token; replacing the Secret issues a new one.
 */
export class PeerReaders extends pulumi.ComponentResource {
    /** CA and token per peer trust domain, each a Pulumi secret; resolved once its bindings exist. */
    readonly credentials: Record<string, pulumi.Output<ReaderCredentials>>;

    constructor(name: string, args: PeerReadersArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("spire-istio-mesh:index:PeerReaders", name, {}, opts);
        const { cluster } = args;
        const prefix = cluster.clusterName;
        const own = () => inCluster(cluster, this);

        const clusterRole = new k8s.rbac.v1.ClusterRole(
            `${prefix}-peer-reader`,
            { metadata: { name: peerReaderRoleName }, rules: peerReaderClusterRules.map((rule) => ({ ...rule })) },
            own(),
        );
        const meshConfigRole = new k8s.rbac.v1.Role(
            `${prefix}-peer-reader-mesh-config`,
            { metadata: { name: peerReaderRoleName, namespace: args.namespace }, rules: peerReaderMeshConfigRules.map((rule) => ({ ...rule })) },
            own(),
        );

        this.credentials = Object.fromEntries(
            args.peerTrustDomains.map((trustDomain) => [trustDomain, this.peerCredential(prefix, trustDomain, args, clusterRole, meshConfigRole)]),
        );
        this.registerOutputs({});
    }

    private peerCredential(
        prefix: string,
        trustDomain: string,
        args: PeerReadersArgs,
        clusterRole: k8s.rbac.v1.ClusterRole,
        meshConfigRole: k8s.rbac.v1.Role,
    ): pulumi.Output<ReaderCredentials> {
        const own = () => inCluster(args.cluster, this);
        const objectName = peerObjectName(trustDomain);
        const resourceName = `${prefix}-peer-reader-${objectName}`;
        const labels = { [peerReaderLabel]: objectName };
        const subject = (account: k8s.core.v1.ServiceAccount) => [
            { kind: "ServiceAccount", name: account.metadata.name, namespace: account.metadata.namespace },
        ];

        const account = new k8s.core.v1.ServiceAccount(
            resourceName,
            // The account only authenticates; nothing mounts its token into a pod.
            { metadata: { name: peerReaderServiceAccountName(trustDomain), namespace: args.namespace, labels }, automountServiceAccountToken: false },
            own(),
        );
        const clusterBinding = new k8s.rbac.v1.ClusterRoleBinding(
            resourceName,
            {
                metadata: { name: `${peerReaderRoleName}-${objectName}`, labels },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole.metadata.name },
                subjects: subject(account),
            },
            own(),
        );
        const meshConfigBinding = new k8s.rbac.v1.RoleBinding(
            `${resourceName}-mesh-config`,
            {
                metadata: { name: `${peerReaderRoleName}-${objectName}`, namespace: meshConfigRole.metadata.namespace, labels },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: meshConfigRole.metadata.name },
                subjects: subject(account),
            },
            own(),
        );
        // Since Kubernetes 1.24 no token Secret is made for a ServiceAccount; this asks the token
        // controller for a long-lived one, filled in after creation.
        const token = new k8s.core.v1.Secret(
            `${resourceName}-token`,
            {
                metadata: {
                    name: `${peerReaderServiceAccountName(trustDomain)}-token`,
                    namespace: account.metadata.namespace,
                    labels,
                    annotations: {
                        "kubernetes.io/service-account.name": account.metadata.name,
                        "pulumi.com/waitFor": "jsonpath={.data.token}",
                    },
                },
                type: "kubernetes.io/service-account-token",
            },
            inCluster(args.cluster, this, { additionalSecretOutputs: ["data"] }),
        );
        // The credential is handed out only once both bindings exist: before that the token
        // authenticates but may read nothing, and a peer's istiod would retry without saying why.
        return pulumi.secret(
            pulumi.all([token.data, clusterBinding.metadata.name, meshConfigBinding.metadata.name]).apply(([data]): ReaderCredentials => {
                const value = data?.token;
                const ca = data?.["ca.crt"];
                if (!value || !ca) throw new pulumi.ResourceError(`peer reader token for ${trustDomain} in ${prefix} has no token or ca.crt`, token);
                return { caCertificateBase64: ca, token: Buffer.from(value, "base64").toString("utf8") };
            }),
        );
    }
}
