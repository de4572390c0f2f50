import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { tokenKubeconfig } from "../lib/kubeconfig";
import { multiClusterSecretLabel } from "./istio/values";
import { IstioMultiPrimary } from "./istioMultiPrimary";
import { inCluster, MeshCluster } from "./meshCluster";
import { ReaderCredentials } from "./peerReaders";

/** How a holder's istiod reaches one peer's API server. */
export interface RemoteClusterAccess {
    /** The peer's Istio cluster ID; istiod registers the peer's services under it. */
    clusterName: string;
    /**
     * Kubeconfig of the peer's reader credential issued to the holder's trust domain (a Pulumi
     * secret): built by `readerKubeconfigOf` for a peer of this stack, or published by a peer stack
     * in its `federationCredentials`.
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
 * The kubeconfig the istiod of `readerTrustDomain` uses to watch `primary`'s cluster: the token of
 * the credential `primary`'s cluster issued to that trust domain alone, and its API server CA, at the
 * API server URL peers reach (a Pulumi secret). The credential resolves only once its role bindings
 * exist, so whatever holds the kubeconfig waits for them (and, on destroy, goes before them).
 */
export function readerKubeconfigOf(primary: IstioMultiPrimary, readerTrustDomain: string): pulumi.Output<string> {
    const clusterName = primary.cluster.clusterName;
    const credentials = primary.readers.credentials[readerTrustDomain];
    if (!credentials) throw new Error(`cluster ${clusterName} issues no reader credential to ${readerTrustDomain}`);
    return pulumi.secret(pulumi.all([primary.cluster.apiServerUrl, credentials]).apply(([url, reader]) => remoteSecretKubeconfig(clusterName, url, reader)));
}

/**
 * The cross-cluster phase: once every primary exists, each cluster gets a remote secret for
 * every other and for every peer domain of another stack, so every istiod sees every cluster's
 * endpoints. Each secret lives in the holder cluster, through the holder's provider, and goes
 * when the holder's cluster goes; it carries the credential the peer issued to the holder's trust
 * domain, never one another holder uses. Secrets for peers of other stacks carry the kubeconfig
 * those stacks publish for the holder; their names are the same as for a peer of this stack, so
 * moving a domain to a stack of its own renames nothing.
 */
export function connectPrimaries(primaries: IstioMultiPrimary[], peersElsewhere: (holderTrustDomain: string) => RemoteClusterAccess[] = () => []): IstioRemoteSecrets[] {
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
                            .map((peer) => ({ clusterName: peer.cluster.clusterName, kubeconfig: readerKubeconfigOf(peer, holder.trustDomain) })),
                        ...peersElsewhere(holder.trustDomain),
                    ],
                },
                { parent: holder },
            ),
    );
}
