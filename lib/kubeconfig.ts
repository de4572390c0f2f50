import { stringify } from "yaml";

/** A kubeconfig with one cluster, one user and one context, all named after the cluster. */
function singleContextKubeconfig(name: string, cluster: object, user: object): string {
    return stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name, cluster }],
        users: [{ name, user }],
        contexts: [{ name, context: { cluster: name, user: name } }],
        "current-context": name,
        preferences: {},
    });
}

/**
 * Kubeconfig for a GKE cluster that authenticates through `gke-gcloud-auth-plugin`, as gcloud
 * itself writes since Kubernetes 1.26 removed in-tree GCP auth, but with the application-default
 * credentials: the identity the gcp provider creates the cluster with, instead of whatever user
 * `gcloud auth login` last selected. Holds no credential, yet stays a Pulumi secret: it names the
 * endpoint and carries the cluster CA.
 */
export function gkeKubeconfig(args: { name: string; endpoint: string; clusterCaCertificate: string }): string {
    return singleContextKubeconfig(
        args.name,
        { "certificate-authority-data": args.clusterCaCertificate, server: `https://${args.endpoint}` },
        {
            exec: {
                apiVersion: "client.authentication.k8s.io/v1beta1",
                command: "gke-gcloud-auth-plugin",
                args: ["--use_application_default_credentials"],
                installHint: "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin",
                provideClusterInfo: true,
            },
        },
    );
}

/**
 * Kubeconfig that istiod in a peer cluster uses to watch this cluster: a service-account token
 * (of `istio-reader-service-account`) and the CA that signed the API server's certificate.
 */
export function tokenKubeconfig(args: { name: string; server: string; caCertificateBase64: string; token: string }): string {
    return singleContextKubeconfig(
        args.name,
        { "certificate-authority-data": args.caCertificateBase64, server: args.server },
        { token: args.token },
    );
}
