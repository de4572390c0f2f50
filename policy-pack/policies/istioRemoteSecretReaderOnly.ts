import { ResourcePolicyDefinition, toResourcePolicy } from "../lib/definition";
import { isKind, labelsOf, objectLabel } from "../lib/kubernetes";
import { readerKubeconfigProblems, ReaderKubeconfigRules } from "../lib/readerKubeconfig";
import { PlainResource } from "../lib/resource";
import { entriesAt, isUnknown } from "../lib/values";
import { peerReaderServiceAccountPrefix } from "../../lib/peerReader";

export type IstioRemoteSecretReaderOnlyConfig = ReaderKubeconfigRules;

/** istiod loads every Secret in its namespace with this label as kubeconfigs of remote clusters. */
const remoteSecretLabel = { key: "istio/multiCluster", value: "true" } as const;

/** `data` is base64 on the wire; a value that does not decode to text is judged as it is. */
function decoded(value: unknown): unknown {
    if (typeof value !== "string") return value;
    return Buffer.from(value, "base64").toString("utf8");
}

/**
 * Each kubeconfig in an Istio remote secret is handed to the holder cluster's istiod, and so to
 * whoever can read Secrets in its namespace there: it must not carry more than the peer's reader
 * token. An admin credential here gives the holder's admins (and any compromise of its istiod)
 * control of the peer cluster.
 */
export function remoteSecretProblems(resource: PlainResource, config: IstioRemoteSecretReaderOnlyConfig): string[] {
    if (!isKind(resource, "", "Secret")) return [];
    if (labelsOf(resource)[remoteSecretLabel.key] !== remoteSecretLabel.value) return [];
    const entries: [string, unknown][] = [
        ...entriesAt(resource.props, ["stringData"]).map(([key, value]): [string, unknown] => [`stringData.${key}`, value]),
        ...entriesAt(resource.props, ["data"]).map(([key, value]): [string, unknown] => [`data.${key}`, isUnknown(value) ? value : decoded(value)]),
    ];
    return entries.flatMap(([path, kubeconfig]) =>
        readerKubeconfigProblems(kubeconfig, config).map(
            (problem) =>
                `${objectLabel(resource)} is an Istio remote secret (label ${remoteSecretLabel.key}=${remoteSecretLabel.value}) whose kubeconfig at ${path} ${problem}. ` +
                "The holder's istiod, and anyone who reads Secrets in its namespace, gets this credential: give it only the peer's reader service-account token.",
        ),
    );
}

export const definition: ResourcePolicyDefinition<IstioRemoteSecretReaderOnlyConfig> = {
    scope: "resource",
    name: "istio-remote-secret-reader-only",
    description:
        "Every kubeconfig in an Istio remote secret (a Secret labelled istio/multiCluster=true) is reader-only: one user with only a bearer token, and that token, when known, is a JWT of a peer reader service account (sub system:serviceaccount:<namespace>:<readerServiceAccountPrefix><peer>). No admin credential is handed to a peer's istiod.",
    enforcementLevel: "mandatory",
    config: {
        readerServiceAccountPrefix: {
            schema: { type: "string", minLength: 1, description: "How the name of a service account whose token remote secrets may carry starts." },
            default: peerReaderServiceAccountPrefix,
        },
    },
    validate: remoteSecretProblems,
};

export const policy = toResourcePolicy(definition);
