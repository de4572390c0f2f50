import { describe, expect, it } from "vitest";
import { loadBalancerProblems } from "../policies/loadBalancerSourceRanges";
import { kubernetesObject, mutate, providerUrn, REMOVE, resource } from "./fixtures";

const service = kubernetesObject("v1", "Service", "spire-bundle-endpoint", {
    metadata: { name: "spire-bundle-endpoint", namespace: "spire-server" },
    spec: { type: "LoadBalancer", loadBalancerSourceRanges: ["198.51.100.0/24"], ports: [{ port: 8443 }] },
});
const gateway = resource(
    "kubernetes:helm.sh/v3:Release",
    "cluster-1-istio-eastwestgateway",
    {
        chart: "gateway",
        name: "istio-eastwestgateway",
        values: { service: { type: "LoadBalancer", loadBalancerSourceRanges: ["198.51.100.0/24"] } },
    },
    { provider: providerUrn("cluster-1") },
);

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
    ])("flags a LoadBalancer Service with %s", (_, value) => {
        expect(loadBalancerProblems(mutate(service, ["spec", "loadBalancerSourceRanges"], value))).toEqual([
            'Service "spire-bundle-endpoint" in cluster "cluster-1" is a public LoadBalancer open to every address; set loadBalancerSourceRanges (config loadBalancerSourceRanges) to the peer clusters\' and clients\' CIDRs, or make it internal.',
        ]);
    });

    it("accepts an internal load balancer without source ranges", () => {
        const open = mutate(service, ["spec", "loadBalancerSourceRanges"], REMOVE);
        expect(loadBalancerProblems(mutate(open, ["metadata", "annotations"], { "networking.gke.io/load-balancer-type": "Internal" }))).toEqual([]);
    });

    it("flags an Istio gateway release that keeps the chart's default LoadBalancer open", () => {
        const open = mutate(gateway, ["values", "service", "loadBalancerSourceRanges"], REMOVE);
        expect(loadBalancerProblems(open)).toEqual([expect.stringContaining('Helm release "istio-eastwestgateway" (chart gateway) in cluster "cluster-1" creates a public LoadBalancer')]);
        // The gateway chart's service.type defaults to LoadBalancer.
        expect(loadBalancerProblems(mutate(open, ["values", "service", "type"], REMOVE))).toHaveLength(1);
    });
});
