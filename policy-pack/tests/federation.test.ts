import { describe, expect, it } from "vitest";
import { effectiveConfig } from "../lib/definition";
import { bundleEndpointProblems, definition as bundleEndpointDefinition } from "../policies/bundleEndpointService";
import { bundleEndpointUrlProblem, federationFindings } from "../policies/spireFederation";
import {
    bundleEndpointService,
    clusterSpiffeId,
    Domain,
    domains,
    federatedTrustDomain,
    kubernetesObject,
    meshStack,
    mutate,
    REMOVE,
    replaced,
    spiffeBundle,
    spireRelease,
    without,
} from "./fixtures";

const [foo, bar] = domains;
const baz: Domain = { cluster: "cluster-3", trustDomain: "baz.com", address: "203.0.113.12" };

describe("spire-federation", () => {
    it("accepts a two-domain mesh and a three-domain mesh where every domain federates with every other", () => {
        expect(federationFindings(meshStack())).toEqual([]);
        expect(federationFindings(meshStack([foo, bar, baz]))).toEqual([]);
    });

    it("flags a missing federation with a peer, and the identities that now federate with an unknown domain", () => {
        const stack = without(meshStack(), federatedTrustDomain(foo, bar).urn);
        expect(federationFindings(stack)).toEqual([
            {
                urn: spireRelease(foo).urn,
                message:
                    'cluster "cluster-1" (trust domain foo.com) has no ClusterFederatedTrustDomain for peer bar.com; declare one with trustDomain bar.com, bundleEndpointProfile {type: https_spiffe, endpointSPIFFEID: spiffe://bar.com/spire/server} and bar.com\'s bundle as trustDomainBundle.',
            },
            {
                urn: clusterSpiffeId(foo, []).urn,
                message: expect.stringContaining("federates with bar.com, but cluster \"cluster-1\" holds no ClusterFederatedTrustDomain for it"),
            },
        ]);
    });

    it("asks every cluster of three to federate with both peers", () => {
        const stack = without(meshStack([foo, bar, baz]), federatedTrustDomain(baz, foo).urn);
        const findings = federationFindings(stack);
        expect(findings.map((finding) => finding.message)).toEqual([
            expect.stringContaining('cluster "cluster-3" (trust domain baz.com) has no ClusterFederatedTrustDomain for peer foo.com'),
            expect.stringContaining('ClusterSPIFFEID "mesh-workloads" in cluster "cluster-3" federates with foo.com'),
        ]);
    });

    const federation = federatedTrustDomain(foo, bar);
    it.each([
        ["profile https_web", ["spec", "bundleEndpointProfile", "type"], "https_web", 'uses bundle endpoint profile "https_web"; set bundleEndpointProfile.type: https_spiffe'],
        ["no profile type", ["spec", "bundleEndpointProfile", "type"], REMOVE, "uses bundle endpoint profile null; set bundleEndpointProfile.type: https_spiffe"],
        ["another endpoint SPIFFE ID", ["spec", "bundleEndpointProfile", "endpointSPIFFEID"], "spiffe://bar.com/spire/agent", "set bundleEndpointProfile.endpointSPIFFEID: spiffe://bar.com/spire/server"],
        ["the own domain's endpoint ID", ["spec", "bundleEndpointProfile", "endpointSPIFFEID"], "spiffe://foo.com/spire/server", 'expects endpoint SPIFFE ID "spiffe://foo.com/spire/server"'],
        ["no bootstrap bundle", ["spec", "trustDomainBundle"], REMOVE, "trustDomainBundle is not set; bootstrap it with bar.com's SPIFFE bundle"],
        ["an empty bundle", ["spec", "trustDomainBundle"], "", "trustDomainBundle is empty"],
        ["a bundle with no keys", ["spec", "trustDomainBundle"], '{"keys":[]}', "trustDomainBundle has no keys"],
        ["a PEM instead of a SPIFFE bundle", ["spec", "trustDomainBundle"], "-----BEGIN CERTIFICATE-----", "trustDomainBundle is not JSON"],
        ["a bundle without x509-svid keys", ["spec", "trustDomainBundle"], '{"keys":[{"use":"jwt-svid","kty":"EC"}]}', "has no x509-svid key with a certificate"],
        ["a doubled port in the URL", ["spec", "bundleEndpointURL"], "https://203.0.113.11:8443:8443", 'bundleEndpointURL "https://203.0.113.11:8443:8443" is not a valid URL'],
        ["a plain http URL", ["spec", "bundleEndpointURL"], "http://203.0.113.11:8443", "is not an https URL"],
        ["no className", ["spec", "className"], REMOVE, "has no spec.className, so the controller manager of Helm release \"spire\" (chart spire) in cluster \"cluster-1\" ignores it; set spec.className: spire-server-spire"],
        ["another className", ["spec", "className"], "spire-spire", 'has spec.className "spire-spire"'],
    ])("flags a ClusterFederatedTrustDomain with %s", (_, path, value, message) => {
        const findings = federationFindings(replaced(meshStack(), mutate(federation, path, value)));
        expect(findings).toHaveLength(1);
        expect(findings[0].urn).toBe(federation.urn);
        expect(findings[0].message).toContain(message);
        expect(findings[0].message).toContain('ClusterFederatedTrustDomain "bar.com" in cluster "cluster-1"');
    });

    it("flags a federation with the cluster's own trust domain", () => {
        const own = mutate(federation, ["spec", "trustDomain"], foo.trustDomain);
        const messages = federationFindings(replaced(meshStack(), own)).map((finding) => finding.message);
        expect(messages).toContainEqual(expect.stringContaining("with its own trust domain \"foo.com\"; federate only with peers"));
    });

    it("does not need className when the SPIRE release reconciles classless CRs, and derives the class from an override", () => {
        const classless = mutate(federation, ["spec", "className"], REMOVE);
        const watching = mutate(spireRelease(foo), ["values", "spire-server", "controllerManager", "watchClassless"], true);
        expect(federationFindings(replaced(replaced(meshStack(), classless), watching))).toEqual([]);
        const renamed = mutate(spireRelease(foo), ["values", "spire-server", "crNameOverride"], "mesh");
        const findings = federationFindings(replaced(meshStack(), renamed));
        expect(findings.map((finding) => finding.message)).toContainEqual(expect.stringContaining("set spec.className: spire-server-mesh"));
    });

    it("flags a ClusterSPIFFEID federating with a domain the cluster holds no bundle for", () => {
        const spiffeId = mutate(clusterSpiffeId(foo, [bar.trustDomain]), ["spec", "federatesWith"], [bar.trustDomain, "qux.com"]);
        expect(federationFindings(replaced(meshStack(), spiffeId))).toEqual([
            {
                urn: spiffeId.urn,
                message:
                    'ClusterSPIFFEID "mesh-workloads" in cluster "cluster-1" federates with qux.com, but cluster "cluster-1" holds no ClusterFederatedTrustDomain for it, and SPIRE refuses such entries (no workload gets an SVID); declare the federation or drop qux.com from federatesWith.',
            },
        ]);
    });

    it("flags a ClusterSPIFFEID the controller manager would ignore", () => {
        const spiffeId = mutate(clusterSpiffeId(foo, [bar.trustDomain]), ["spec", "className"], REMOVE);
        expect(federationFindings(replaced(meshStack(), spiffeId)).map((finding) => finding.message)).toEqual([
            expect.stringContaining('ClusterSPIFFEID "mesh-workloads" in cluster "cluster-1" has no spec.className'),
        ]);
    });

    it("accepts federations and identities the SPIRE chart renders from its values", () => {
        const stack = without(without(meshStack(), federatedTrustDomain(foo, bar).urn), clusterSpiffeId(foo, []).urn);
        const chartManaged = mutate(spireRelease(foo), ["values", "spire-server", "controllerManager", "identities"], {
            clusterFederatedTrustDomains: {
                bar: {
                    trustDomain: bar.trustDomain,
                    bundleEndpointURL: `https://${bar.address}:8443`,
                    bundleEndpointProfile: { type: "https_spiffe", endpointSPIFFEID: "spiffe://bar.com/spire/server" },
                    trustDomainBundle: spiffeBundle(),
                },
            },
            clusterSPIFFEIDs: { sidecars: { federatesWith: [bar.trustDomain] } },
        });
        expect(federationFindings(replaced(stack, chartManaged))).toEqual([]);
        const badProfile = mutate(chartManaged, ["values", "spire-server", "controllerManager", "identities", "clusterFederatedTrustDomains", "bar", "bundleEndpointProfile", "type"], "https_web");
        expect(federationFindings(replaced(stack, badProfile)).map((finding) => finding.message)).toEqual([
            expect.stringContaining('clusterFederatedTrustDomains.bar uses bundle endpoint profile "https_web"'),
        ]);
    });

    it("flags a cluster with peers but no bundle endpoint Service", () => {
        const stack = without(meshStack(), bundleEndpointService(bar).urn);
        expect(federationFindings(stack)).toEqual([
            {
                urn: spireRelease(bar).urn,
                message:
                    'cluster "cluster-2" (trust domain bar.com) has no bundle endpoint Service, so peers cannot fetch its bundle; declare a Service labelled app.kubernetes.io/component: bundle-endpoint that exposes the SPIRE server\'s port 8443.',
            },
        ]);
    });

    it.each([
        ["https://203.0.113.11:8443", undefined],
        ["https://spire.bar.com", undefined],
        ["https://user:pw@203.0.113.11:8443", "carries user info"],
        ["ftp://203.0.113.11:8443", "is not an https URL"],
        ["203.0.113.11:8443", "is not a valid URL"],
        ["not a url", "is not a valid URL"],
    ])("judges bundle endpoint URL %s", (url, problem) => {
        if (problem === undefined) expect(bundleEndpointUrlProblem(url)).toBeUndefined();
        else expect(bundleEndpointUrlProblem(url)).toContain(problem);
    });
});

describe("spire-bundle-endpoint-only", () => {
    const config = effectiveConfig(bundleEndpointDefinition);
    const service = bundleEndpointService(foo);

    it("uses SPIRE's federation port 8443 by default", () => {
        expect(config.port).toBe(8443);
    });

    it("accepts the bundle endpoint Service exposing only 8443 to the server pods (NodePort too)", () => {
        expect(bundleEndpointProblems(service, config)).toEqual([]);
        const nodePort = mutate(mutate(service, ["spec", "type"], "NodePort"), ["spec", "ports", 0, "nodePort"], 30843);
        expect(bundleEndpointProblems(nodePort, config)).toEqual([]);
    });

    it.each([
        ["the gRPC port as well", ["spec", "ports", 1], { name: "grpc", port: 443 }, "exposes port(s) 8443, 443; expose exactly port 8443"],
        ["another port", ["spec", "ports", 0, "port"], 443, "exposes port(s) 443; expose exactly port 8443"],
        ["another target port", ["spec", "ports", 0, "targetPort"], 8081, "sends port 8443 to target port 8081; target the server's federation port 8443"],
        ["a selector for other pods", ["spec", "selector", "app.kubernetes.io/name"], "agent", "does not select the SPIRE server pods; set spec.selector app.kubernetes.io/name: server"],
    ])("flags a bundle endpoint Service with %s", (_, path, value, message) => {
        expect(bundleEndpointProblems(mutate(service, path, value), config)).toEqual([
            expect.stringContaining(`Service "spire-bundle-endpoint" in cluster "cluster-1" ${message.startsWith("sends") ? "" : "is the SPIRE bundle endpoint but "}${message}`),
        ]);
    });

    it("flags any other Service exposing the SPIRE server's gRPC port outside the cluster", () => {
        const exposed = kubernetesObject("v1", "Service", "spire-lb", {
            metadata: { name: "spire-lb", namespace: "spire-server" },
            spec: { type: "LoadBalancer", selector: { "app.kubernetes.io/name": "server" }, ports: [{ port: 443 }, { port: 8443 }] },
        });
        expect(bundleEndpointProblems(exposed, config)).toEqual([
            expect.stringContaining('Service "spire-lb" in cluster "cluster-1" exposes the SPIRE server outside the cluster on port(s) 443; expose only 8443'),
        ]);
        expect(bundleEndpointProblems(mutate(exposed, ["spec", "type"], "ClusterIP"), config)).toEqual([]);
    });

    it("flags the spire chart's own Service made a LoadBalancer (it carries gRPC 443)", () => {
        const release = spireRelease(foo);
        expect(bundleEndpointProblems(release, config)).toEqual([]);
        expect(bundleEndpointProblems(mutate(release, ["values", "spire-server", "service", "type"], "LoadBalancer"), config)).toEqual([
            expect.stringContaining("sets spire-server.service.type LoadBalancer, which exposes the SPIRE server's gRPC port outside the cluster; keep it ClusterIP"),
        ]);
    });
});
