import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { tokenKubeconfig } from "../lib/kubeconfig";
import { multiClusterSecretLabel } from "./istio/values";
import { IstioMultiPrimary, ReaderCredentials } from "./istioMultiPrimary";
import { inCluster, MeshCluster } from "./meshCluster";

/** How a holder's istiod reaches one peer's API server. */
export interface RemoteClusterAccess {
    /** The peer's Istio cluster ID; istiod registers the peer's services under it. */
    clusterName: string;
    /**
     * Kubeconfig of the peer's reader service account (a Pulumi secret): built by `readerKubeconfigOf`
     * for a peer of this stack, or published by a peer stack in its `federationCredentials`.
     */
    kubeconfig: pulumi.Input<string>;
}

export interface IstioRemoteSecretsArgs {
    /** The cluster whose istiod uses the secrets; they live in its `istio-system`. */
    holder: MeshCluster;
    /** Name of the holder's `istio-system` (istiod watches only its own namespace for them). */
    namespace: pulumi.Input<string>;
    /** Every peer the holder's istiod must discover services and endpoints in. */
    peers: RemoteClusterAccess[];
}

/** Name, labels and annotations of the remote secret for `clusterName`, as istioctl writes them. */
export function remoteSecretMetadata(clusterName: string): {
    name: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
} {
    return {
        name: `istio-remote-secret-${clusterName}`,
        // istiod selects remote secrets by this label only.
        labels: { ...multiClusterSecretLabel },
        // For people and istioctl; istiod takes the cluster ID from the data key instead.
        annotations: { "networking.istio.io/cluster": clusterName },
    };
}

/** The kubeconfig istiod reads from a remote secret: an inline token, which istiod accepts. */
export function remoteSecretKubeconfig(clusterName: string, apiServerUrl: string, credentials: ReaderCredentials): string {
    return tokenKubeconfig({
        name: clusterName,
        server: apiServerUrl,
        caCertificateBase64: credentials.caCertificateBase64,
        token: credentials.token,
    });
}

/**
 * Refuses a peer whose istiod release is not deployed: its reader may not be allowed to read yet,
 * and a holder's istiod that cannot list the peer's services keeps retrying without saying why.
 */
export function requireReaderRbac(clusterName: string, istiodStatus: k8s.types.output.helm.v3.ReleaseStatus): void {
    // The provider reports Helm's own status; a release whose manifest was applied is "deployed".
    if (istiodStatus.status !== "deployed") {
        throw new Error(
            `istiod release ${istiodStatus.namespace}/${istiodStatus.name} in ${clusterName} is "${istiodStatus.status}", not "deployed": the reader RBAC that remote secrets rely on may be missing`,
        );
    }
}

/**
 * The remote secrets one cluster holds: one per peer, which is what `istioctl create-remote-secret
 * | kubectl apply` would produce, built from the peer's reader token without istioctl.
 */
export class IstioRemoteSecrets extends pulumi.ComponentResource {
    readonly secrets: k8s.core.v1.Secret[];

    constructor(name: string, args: IstioRemoteSecretsArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("spire-istio-mesh:index:IstioRemoteSecrets", name, {}, opts);
        this.secrets = args.peers.map((peer) => {
            const kubeconfig = pulumi.output(peer.kubeconfig);
            return new k8s.core.v1.Secret(
                `${args.holder.clusterName}-istio-remote-secret-${peer.clusterName}`,
                {
                    metadata: { ...remoteSecretMetadata(peer.clusterName), namespace: args.namespace },
                    // The data key is the cluster ID istiod registers; it ignores its own ID.
                    stringData: pulumi.secret(kubeconfig.apply((text) => ({ [peer.clusterName]: text }))),
                },
                inCluster(args.holder, this),
            );
        });
        this.registerOutputs({});
    }
}

/**
 * The kubeconfig a peer's istiod uses to watch `primary`'s cluster: its reader token and API server
 * CA, at the API server URL peers reach (a Pulumi secret). It takes the status of `primary`'s istiod
 * release as a value: that chart, not `base`, binds the reader's ClusterRole, so until it is
 * deployed the token authenticates but may read nothing. Whatever holds the kubeconfig therefore
 * waits for (and, on destroy, goes before) the release.
 */
export function readerKubeconfigOf(primary: IstioMultiPrimary): pulumi.Output<string> {
    const clusterName = primary.cluster.clusterName;
    return pulumi.secret(
        pulumi
            .all([primary.cluster.apiServerUrl, primary.readerCredentials, primary.istiod.status])
            .apply(([url, credentials, istiodStatus]) => {
                requireReaderRbac(clusterName, istiodStatus);
                return remoteSecretKubeconfig(clusterName, url, credentials);
            }),
    );
}

/**
 * The cross-cluster phase: once every primary exists, each cluster gets a remote secret for
 * every other and for every peer domain of another stack, so every istiod sees every cluster's
 * endpoints. Each secret lives in the holder cluster, through the holder's provider, and goes
 * when the holder's cluster goes. Secrets for peers of other stacks carry the kubeconfig those
 * stacks publish; their names are the same as for a peer of this stack, so moving a domain to a
 * stack of its own renames nothing.
 */
export function connectPrimaries(primaries: IstioMultiPrimary[], peersElsewhere: RemoteClusterAccess[] = []): IstioRemoteSecrets[] {
    return primaries.map(
        (holder) =>
            new IstioRemoteSecrets(
                `${holder.cluster.clusterName}-remote-secrets`,
                {
                    holder: holder.cluster,
                    namespace: holder.namespace,
                    peers: [
                        ...primaries
                            .filter((peer) => peer.cluster.clusterName !== holder.cluster.clusterName)
                            .map((peer) => ({ clusterName: peer.cluster.clusterName, kubeconfig: readerKubeconfigOf(peer) })),
                        ...peersElsewhere,
                    ],
                },
                { parent: holder },
            ),
    );
}
