import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { KindDomainSettings } from "../config/model";
import { MeshCluster } from "./meshCluster";

export interface KindClusterArgs {
    /** Cluster name; the kind cluster (and its Docker containers) are named after it. */
    clusterName: string;
    /** Node image, or an existing `kind-<name>` context to use instead of creating a cluster. */
    settings: KindDomainSettings;
}

/** The kind cluster name behind a kubeconfig context that kind wrote (`kind-<name>`). */
export function kindClusterNameOfContext(context: string): string {
    return context.startsWith("kind-") ? context.slice("kind-".length) : context;
}

/**
 * kind's cluster config. Every cluster of the mesh shares Docker's `kind` network, so a pod in one
 * cluster reaches another cluster's node (and its NodePorts and API server) by container IP.
 */
export function kindClusterConfig(): string {
    return stringify({
        kind: "Cluster",
        apiVersion: "kind.x-k8s.io/v1alpha4",
        nodes: [{ role: "control-plane" }],
    });
}

/** Shell-quotes one argument for the `sh -c` that the command provider runs. */
function quote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Opening of a script about one kind cluster: strict shell, the cluster's name in `$name`, and
 * `$exists` true when kind lists it. The list is read before any test so that kind failing (Docker
 * stopped) stops the script instead of reading as "no such cluster".
 */
function kindScriptPrologue(kindName: string): string[] {
    return [
        "set -eu",
        `name=${quote(kindName)}`,
        'clusters="$(kind get clusters)"',
        `if printf '%s\\n' "$clusters" | grep -qxF -- "$name"; then exists=true; else exists=false; fi`,
    ];
}

/**
 * `kind create cluster`, unless the cluster already exists (a create retried after an interrupted
 * `pulumi up`, or a stack whose state lost the command). kind writes the new cluster's kubeconfig
 * to a file of its own that is removed afterwards, not into the user's ~/.kube/config: the program
 * reads it with `kind get kubeconfig`. kind reports on stderr; stdout stays empty, so no
 * credential is ever streamed into Pulumi's log.
 */
export function kindCreateScript(kindName: string, nodeImage: string): string {
    return [
        ...kindScriptPrologue(kindName),
        'if [ "$exists" = true ]; then',
        '  echo "kind cluster $name already exists; keeping it" >&2',
        "  exit 0",
        "fi",
        'kubeconfig_dir="$(mktemp -d)"',
        `trap 'rm -rf "$kubeconfig_dir"' EXIT`,
        `kind create cluster --name "$name" --image ${quote(nodeImage)} --config - --kubeconfig "$kubeconfig_dir/config" --wait 5m 1>&2`,
    ].join("\n");
}

/**
 * What runs when an input other than the triggers changes (the create or delete text, say, after
 * an upgrade of this program): nothing on a live cluster. Fails when the cluster is gone, since
 * the objects Pulumi holds in state went with it (README, "A kind cluster deleted outside Pulumi").
 */
export function kindUpdateScript(kindName: string): string {
    return [
        ...kindScriptPrologue(kindName),
        'if [ "$exists" = true ]; then',
        '  echo "kind cluster $name exists; nothing to change in it" >&2',
        "  exit 0",
        "fi",
        'echo "kind cluster $name no longer exists; see the README on a kind cluster deleted outside Pulumi" >&2',
        "exit 1",
    ].join("\n");
}

/**
 * A local kind cluster for one trust domain: created on `pulumi up`, deleted on `pulumi destroy`,
 * or an existing kind cluster named by its kubeconfig context (then nothing is created or deleted).
 */
export class KindCluster extends pulumi.ComponentResource implements MeshCluster {
    readonly clusterName: string;
    /** The kind cluster's name (differs from `clusterName` only for an existing context). */
    readonly kindName: string;
    /** The `kind create/delete cluster` command; undefined for an existing cluster. */
    readonly lifecycle: command.local.Command | undefined;
    readonly provider: k8s.Provider;
    readonly kubeconfig: pulumi.Output<string>;
    readonly apiServerUrl: pulumi.Output<string>;
    /** The control-plane container's IP on Docker's `kind` network. */
    readonly nodeAddress: pulumi.Output<string>;
    readonly lifecycleOwner: pulumi.Resource | undefined;
    readonly objectsOwnCloudResources = false;

    constructor(name: string, args: KindClusterArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("spire-istio-mesh:index:KindCluster", name, {}, opts);
        this.clusterName = args.clusterName;
        const existingContext = args.settings.context;
        this.kindName = existingContext ? kindClusterNameOfContext(existingContext) : args.clusterName;
        const kindName = quote(this.kindName);

        if (existingContext === undefined) {
            const clusterConfig = kindClusterConfig();
            this.lifecycle = new command.local.Command(
                `${name}-kind`,
                {
                    create: kindCreateScript(this.kindName, args.settings.nodeImage),
                    update: kindUpdateScript(this.kindName),
                    // kind deletes a cluster that is already gone without complaint.
                    delete: `kind delete cluster --name ${kindName} 1>&2`,
                    stdin: clusterConfig,
                    // What only a new cluster can apply: a changed image or kind config replaces
                    // the cluster, every other change is an update.
                    triggers: [args.settings.nodeImage, clusterConfig],
                },
                // kind cannot create a second cluster of the same name while the old one exists.
                { parent: this, deleteBeforeReplace: true },
            );
        } else {
            this.lifecycle = undefined;
        }
        this.lifecycleOwner = this.lifecycle;

        // Read after the cluster exists: the command text depends on the create command's stdout,
        // so these invokes wait for the create to have run, and report unknown during a first
        // preview. Not on its ID: the command provider returns a new command's ID already in a
        // preview, and the reads would then ask kind about a cluster not created yet.
        const afterCreate = (text: string): pulumi.Input<string> =>
            this.lifecycle ? this.lifecycle.stdout.apply(() => text) : text;
        const kubeconfigRead = command.local.runOutput(
            // The kubeconfig holds the cluster-admin key: never into Pulumi's log.
            { command: afterCreate(`kind get kubeconfig --name ${kindName}`), logging: command.local.Logging.None },
            { parent: this },
        );
        this.kubeconfig = pulumi.secret(kubeconfigRead.apply((result) => result.stdout ?? ""));

        const addressRead = command.local.runOutput(
            {
                command: afterCreate(
                    `docker inspect --format '{{ (index .NetworkSettings.Networks "kind").IPAddress }}' ${quote(`${this.kindName}-control-plane`)}`,
                ),
            },
            { parent: this },
        );
        this.nodeAddress = addressRead.apply((result) => {
            const address = (result.stdout ?? "").trim();
            if (!/^[0-9a-fA-F.:]+$/.test(address)) {
                throw new pulumi.ResourceError(
                    `kind cluster ${this.kindName}: no control-plane address on Docker's "kind" network (got ${JSON.stringify(address)})`,
                    this,
                );
            }
            return address;
        });
        // Not 127.0.0.1 from the host kubeconfig: peers' pods reach the API server on the kind network.
        this.apiServerUrl = pulumi.interpolate`https://${this.nodeAddress}:6443`;

        this.provider = new k8s.Provider(
            name,
            {
                kubeconfig: this.kubeconfig,
                // A replaced cluster (new ID) is a new cluster: every object in it is replaced too,
                // instead of Pulumi believing the objects of the old one still exist.
                clusterIdentifier: this.lifecycle ? pulumi.interpolate`kind-${this.kindName}-${this.lifecycle.id}` : `kind-${this.kindName}`,
                // No deleteUnreachable: with Docker stopped, a refresh would drop every object
                // of the cluster from state (README, "Unreachable clusters").
            },
            { parent: this },
        );

        this.registerOutputs({
            apiServerUrl: this.apiServerUrl,
            kubeconfig: this.kubeconfig,
            nodeAddress: this.nodeAddress,
        });
    }
}
