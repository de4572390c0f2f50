import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CoreV1Api, KubeConfig, V1Node } from "@kubernetes/client-node";
import { ExistingDomainSettings, Exposure } from "../config/model";
import { MeshCluster } from "./meshCluster";

export interface ExistingClusterArgs {
    /** The domain's name: Istio's cluster ID and the name in stack outputs, whatever the context is called. */
    clusterName: string;
    /** The validated context, its cut-down kubeconfig and the addresses peers use. */
    settings: ExistingDomainSettings;
    /** Node addresses matter only in NodePort exposure; LoadBalancer clusters are never asked for them. */
    exposure: Exposure;
    /**
     * Lists the cluster's Nodes for a kubeconfig. Defaults to the Kubernetes API; tests pass a fake so
     * that no run of the program under mocks reaches a network.
     */
    listNodes?: (kubeconfig: string) => Promise<V1Node[]>;
}

/** Lists Nodes through the API server the kubeconfig names. */
export async function listNodesOf(kubeconfig: string): Promise<V1Node[]> {
    const config = new KubeConfig();
    config.loadFromString(kubeconfig);
    const list = await config.makeApiClient(CoreV1Api).listNode();
    return list.items;
}

function isReady(node: V1Node): boolean {
    return (node.status?.conditions ?? []).some((condition) => condition.type === "Ready" && condition.status === "True");
}

/**
 * The address peers should use for this cluster's node ports: of the Ready, schedulable nodes (by
 * name, so the choice is stable between runs), the first ExternalIP, else the first InternalIP. An
 * ExternalIP is preferred because peers are other clusters, often on other networks.
 */
export function nodeAddressOf(nodes: V1Node[]): string | undefined {
    const candidates = nodes
        .filter((node) => isReady(node) && !node.spec?.unschedulable)
        .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
    for (const type of ["ExternalIP", "InternalIP"]) {
        for (const node of candidates) {
            const address = node.status?.addresses?.find((entry) => entry.type === type)?.address;
            if (address) return address;
        }
    }
    return undefined;
}

/**
 * A cluster the program neither creates nor deletes (EKS, AKS, on-premises, a GKE cluster made
 * elsewhere), reached through a kubeconfig context. Its objects are deleted one by one on destroy,
 * since no cluster deletion takes them along.
 */
export class ExistingCluster extends pulumi.ComponentResource implements MeshCluster {
    readonly clusterName: string;
    readonly provider: k8s.Provider;
    readonly kubeconfig: pulumi.Output<string>;
    readonly apiServerUrl: pulumi.Output<string>;
    readonly nodeAddress: pulumi.Output<string> | undefined;
    readonly lifecycleOwner: undefined = undefined;
    readonly objectsOwnCloudResources = false;

    constructor(name: string, args: ExistingClusterArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("spire-istio-mesh:index:ExistingCluster", name, {}, opts);
        this.clusterName = args.clusterName;
        const { settings } = args;
        // The context's credentials: a secret from here on, in state and in outputs.
        this.kubeconfig = pulumi.secret(settings.kubeconfig);
        this.apiServerUrl = pulumi.output(settings.apiServerUrl);

        if (args.exposure === "NodePort") {
            const configured = settings.nodeAddress;
            const listNodes = args.listNodes ?? listNodesOf;
            this.nodeAddress =
                configured !== undefined
                    ? pulumi.output(configured)
                    : pulumi.output(
                          listNodes(settings.kubeconfig).then(
                              (nodes) => {
                                  const address = nodeAddressOf(nodes);
                                  if (address === undefined) {
                                      throw new pulumi.ResourceError(
                                          `cluster ${args.clusterName} (context ${settings.context}): no Ready, schedulable node has an address; set existing.nodeAddress`,
                                          this,
                                      );
                                  }
                                  return address;
                              },
                              (error: unknown) => {
                                  throw new pulumi.ResourceError(
                                      `cluster ${args.clusterName} (context ${settings.context}): cannot list nodes to find the NodePort address (${(error as Error).message}); set existing.nodeAddress`,
                                      this,
                                  );
                              },
                          ),
                      );
        } else {
            this.nodeAddress = undefined;
        }

        this.provider = new k8s.Provider(
            name,
            {
                kubeconfig: this.kubeconfig,
                context: settings.context,
            },
            { parent: this },
        );

        this.registerOutputs({ apiServerUrl: this.apiServerUrl, kubeconfig: this.kubeconfig, nodeAddress: this.nodeAddress });
    }
}
