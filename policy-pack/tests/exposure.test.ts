import { describe, expect, it } from "vitest";
import { loadBalancerProblems } from "../policies/loadBalancerSourceRanges";
import { kubernetesObject, mutate, providerUrn, REMOVE, resource } from "./fixtures";

const service = kubernetesObject("v1", "Service", "spire-bundle-endpoint", {
    metadata: { name: "spire-bundle-endpoint", namespace: "spire-server", labels: { "app.kubernetes.io/component": "bundle-endpoint" } },
    spec: { type: "LoadBalancer", loadBalancerSourceRanges: ["198.51.100.0/24"], ports: [{ port: 8443 }] },
});
const gateway = resource(
    "kubernetes:helm.sh/v3:Release",
    "cluster-1-istio-eastwestgateway",
    {
        chart: "gateway",
        name: "istio-eastwestgateway",
        values: { networkGateway: "foo-network", service: { type: "LoadBalancer", loadBalancerSourceRanges: ["198.51.100.0/24"] } },
    },
    { provider: providerUrn("cluster-1") },
);
const ingress = mutate(mutate(gateway, ["name"], "istio-ingressgateway"), ["values", "networkGateway"], REMOVE);

/** The east-west gateway release without source ranges and without one of its values. */
const openGatewayWithout = (value: string) => mutate(mutate(gateway, ["values", "service", "loadBalancerSourceRanges"], REMOVE), ["values", value], REMOVE);

const peersAdvice = "set loadBalancerSourceRanges (config peerSourceRanges) to every peer cluster's egress addresses, or make it internal";
const clientsAdvice = "set loadBalancerSourceRanges (config loadBalancerSourceRanges) to the CIDRs of its clients, or make it internal";

describe("load-balancer-source-ranges (advisory)", () => {
    it("accepts restricted LoadBalancers, and Services that are no LoadBalancer", () => {
        expect(loadBalancerProblems(service)).toEqual([]);
        expect(loadBalancerProblems(gateway)).toEqual([]);
        expect(loadBalancerProblems(mutate(mutate(service, ["spec", "type"], "NodePort"), ["spec", "loadBalancerSourceRanges"], REMOVE))).toEqual([]);
        expect(loadBalancerProblems(mutate(mutate(gateway, ["values", "service", "type"], "NodePort"), ["values", "service", "loadBalancerSourceRanges"], REMOVE))).toEqual([]);
    });

    it.each([
        ["no source ranges", REMOVE],
        ["an empty list", []],
    ])("flags a LoadBalancer Service with %s, pointing the bundle endpoint at the peers' ranges", (_, value) => {
        const open = mutate(service, ["spec", "loadBalancerSourceRanges"], value);
        expect(loadBalancerProblems(open)).toEqual([
            `Service "spire-bundle-endpoint" in cluster "cluster-1" is a public LoadBalancer open to every address; ${peersAdvice}.`,
        ]);
        // Any other Service serves clients.
        expect(loadBalancerProblems(mutate(open, ["metadata", "labels"], REMOVE))).toEqual([
            `Service "spire-bundle-endpoint" in cluster "cluster-1" is a public LoadBalancer open to every address; ${clientsAdvice}.`,
        ]);
    });

    it("accepts an internal load balancer without source ranges", () => {
        const open = mutate(service, ["spec", "loadBalancerSourceRanges"], REMOVE);
        expect(loadBalancerProblems(mutate(open, ["metadata", "annotations"], { "networking.gke.io/load-balancer-type": "Internal" }))).toEqual([]);
    });

    it("flags an Istio gateway release that keeps the chart's default LoadBalancer open", () => {
        const open = mutate(gateway, ["values", "service", "loadBalancerSourceRanges"], REMOVE);
        expect(loadBalancerProblems(open)).toEqual([
            `Helm release "istio-eastwestgateway" (chart gateway) in cluster "cluster-1" creates a public LoadBalancer open to every address; ${peersAdvice} (values service.loadBalancerSourceRanges).`,
        ]);
        // The gateway chart's service.type defaults to LoadBalancer.
        expect(loadBalancerProblems(mutate(open, ["values", "service", "type"], REMOVE))).toHaveLength(1);
    });

    it("sends the ingress gateway to the clients' ranges and a network gateway to the peers'", () => {
        expect(loadBalancerProblems(ingress)).toEqual([]);
        const openIngress = mutate(ingress, ["values", "service", "loadBalancerSourceRanges"], REMOVE);
        expect(loadBalancerProblems(openIngress)).toEqual([
            `Helm release "istio-ingressgateway" (chart gateway) in cluster "cluster-1" creates a public LoadBalancer open to every address; ${clientsAdvice} (values service.loadBalancerSourceRanges).`,
        ]);
        // An empty networkGateway is the chart's default: not a network gateway.
        expect(loadBalancerProblems(mutate(openIngress, ["values", "networkGateway"], ""))).toEqual(loadBalancerProblems(openIngress));
    });

    it("knows an east-west gateway by the network label it carries instead of networkGateway (the program sets its ports itself)", () => {
        const labelled = mutate(openGatewayWithout("networkGateway"), ["values", "labels"], { "topology.istio.io/network": "foo-network" });
        expect(loadBalancerProblems(labelled)).toEqual([
            `Helm release "istio-eastwestgateway" (chart gateway) in cluster "cluster-1" creates a public LoadBalancer open to every address; ${peersAdvice} (values service.loadBalancerSourceRanges).`,
        ]);
    });
});
