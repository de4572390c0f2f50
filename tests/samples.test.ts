import { describe, expect, it } from "vitest";
import { loadMeshConfig } from "../config/load";
import { deployMesh } from "../mesh";
import { DeclaredResource, ProgramRun, runProgram } from "./harness/program";
import { validateKubernetesObject } from "./harness/schemas";
import { upstreamSample } from "./harness/upstreamFacts";
import { projectConfigOf, StackName, stackNames, withThirdDomain } from "./harness/stacks";

const program = () => deployMesh(loadMeshConfig());
type Run = ProgramRun<ReturnType<typeof program>>;

// Upstream sample manifests at the pinned Istio release (upstream-facts/): where expected names, ports and images come from.
const upstreamHelloworld = upstreamSample("helloworld.yaml");
const upstreamBookinfo = upstreamSample("bookinfo.yaml");
const upstreamCurl = upstreamSample("curl.yaml");
const upstreamIngress = upstreamSample("helloworld-gateway.yaml");
const upstreamImage = (objects: Record<string, any>[], deployment: string): string => // eslint-disable-line @typescript-eslint/no-explicit-any
    objects.find((o) => o.kind === "Deployment" && o.metadata.name === deployment)!.spec.template.spec.containers[0].image;

/** Kubernetes objects the samples component declared, with the cluster each goes to. */
function sampleObjects(run: Run): { resource: DeclaredResource; cluster: string; object: Record<string, any> }[] { // eslint-disable-line @typescript-eslint/no-explicit-any
    return run.resources
        .filter((r) => r.custom && r.type.startsWith("kubernetes:") && run.ancestors(r).some((a) => a.type === "spire-istio-mesh:index:SampleApps"))
        .map((resource) => ({ resource, cluster: resource.provider.split("::").pop()!, object: resource.inputs }));
}

function objectsIn(run: Run, cluster: string, kind: string) {
    return sampleObjects(run).filter((o) => o.cluster === cluster && o.object.kind === kind);
}

const configs: [string, StackName, () => Record<string, unknown>][] = stackNames.flatMap((stack): [string, StackName, () => Record<string, unknown>][] => [
    [`${stack}`, stack, () => projectConfigOf(stack)],
    [`${stack} with a third domain`, stack, () => withThirdDomain(stack)],
]);

describe.each(configs)("samples on %s", (_label, stack, config) => {
    // One program run per config serves every assertion below; each test only reads it.
    let declared: Promise<Run> | undefined;
    const run = () => (declared ??= runProgram(program, { stack, projectConfig: config() }));
    const domainsOf = () => (config().domains as { name: string; trustDomain: string }[]);

    it("declares one SampleApps per domain, parented to its cluster, and every object validates", async () => {
        const result = await run();
        const components = result.ofType("spire-istio-mesh:index:SampleApps");
        expect(components.map((c) => c.name).sort()).toEqual(domainsOf().map((d) => d.name).sort());
        const objects = sampleObjects(result);
        expect(objects.length).toBeGreaterThan(10);
        for (const { resource, object } of objects) {
            expect(validateKubernetesObject(object as never), `${resource.type} ${resource.name}`).toEqual([]);
            expect(resource.provider, resource.name).toMatch(/pulumi:providers:kubernetes::cluster-\d$/);
        }
    });

    it("pins every image to a tag, never latest, and uses the upstream sample images", async () => {
        const result = await run();
        const deployments = sampleObjects(result).filter((o) => o.object.kind === "Deployment");
        const upstreamImages = new Set(
            [...upstreamHelloworld, ...upstreamBookinfo, ...upstreamCurl]
                .filter((o) => o.kind === "Deployment")
                .map((o) => o.spec.template.spec.containers[0].image),
        );
        for (const { object } of deployments) {
            for (const container of object.spec.template.spec.containers) {
                expect(container.image).toMatch(/^[a-z0-9.-]+\/[a-z0-9/._-]+:[A-Za-z0-9._-]+$/);
                expect(container.image).not.toMatch(/:latest$/);
                expect(upstreamImages.has(container.image), container.image).toBe(true);
            }
        }
    });

    it("labels helloworld and sleep for injection and asks every sample pod for the spire template", async () => {
        const result = await run();
        for (const domain of domainsOf()) {
            const namespaces = objectsIn(result, domain.name, "Namespace");
            expect(namespaces.map((n) => n.object.metadata.name).sort()).toEqual(["helloworld", "sleep"]);
            for (const namespace of namespaces) expect(namespace.object.metadata.labels).toEqual({ "istio-injection": "enabled" });
            const deployments = objectsIn(result, domain.name, "Deployment");
            expect(deployments.length).toBeGreaterThanOrEqual(2);
            for (const { object } of deployments) {
                expect(object.spec.template.metadata.annotations["inject.istio.io/templates"]).toBe("sidecar,spire");
            }
        }
    });

    it("runs one helloworld version per domain, v1 first, each replying with its own version", async () => {
        const result = await run();
        const domains = domainsOf();
        for (const [index, domain] of domains.entries()) {
            const version = `v${index + 1}`;
            const helloworlds = objectsIn(result, domain.name, "Deployment").filter((d) => d.object.metadata.namespace === "helloworld");
            expect(helloworlds.map((d) => d.object.metadata.name)).toEqual([`helloworld-${version}`]);
            const spec = helloworlds[0].object.spec;
            expect(spec.selector.matchLabels).toEqual({ app: "helloworld", version });
            expect(spec.template.metadata.labels).toEqual({ app: "helloworld", version });
            expect(spec.template.spec.serviceAccountName).toBe("helloworld");
            const container = spec.template.spec.containers[0];
            // Upstream publishes v1 and v2 images only; later domains reuse v2 and name their version by env.
            expect(container.image).toBe(upstreamImage(upstreamHelloworld, index === 0 ? "helloworld-v1" : "helloworld-v2"));
            expect(container.env).toEqual([{ name: "SERVICE_VERSION", value: version }]);
            expect(container.ports).toEqual([{ containerPort: 5000 }]);

            const services = objectsIn(result, domain.name, "Service").filter((s) => s.object.metadata.namespace === "helloworld");
            const upstreamService = upstreamHelloworld.find((o) => o.kind === "Service")!;
            expect(services).toHaveLength(1);
            expect(services[0].object.metadata.name).toBe(upstreamService.metadata.name);
            expect(services[0].object.spec.ports).toEqual(upstreamService.spec.ports);
            expect(services[0].object.spec.selector).toEqual(upstreamService.spec.selector);
            const accounts = objectsIn(result, domain.name, "ServiceAccount").map((a) => `${a.object.metadata.namespace}/${a.object.metadata.name}`);
            expect(accounts).toEqual(expect.arrayContaining(["helloworld/helloworld", "sleep/sleep"]));
        }
    });

    it("runs a curl client named sleep in every cluster, idling so verify can exec into it", async () => {
        const result = await run();
        const upstream = upstreamCurl.find((o) => o.kind === "Deployment")!.spec.template.spec.containers[0];
        for (const domain of domainsOf()) {
            const sleeps = objectsIn(result, domain.name, "Deployment").filter((d) => d.object.metadata.namespace === "sleep");
            expect(sleeps.map((d) => d.object.metadata.name)).toEqual(["sleep"]);
            const pod = sleeps[0].object.spec.template;
            expect(pod.metadata.labels).toEqual({ app: "sleep" });
            expect(pod.spec.serviceAccountName).toBe("sleep");
            expect(pod.spec.containers[0]).toMatchObject({ name: "sleep", image: upstream.image, command: upstream.command });
        }
    });

    it("puts the ingress Gateway, VirtualService and Bookinfo in the second domain only", async () => {
        const result = await run();
        const domains = domainsOf();
        for (const [index, domain] of domains.entries()) {
            const gateways = objectsIn(result, domain.name, "Gateway");
            const services = objectsIn(result, domain.name, "VirtualService");
            const bookinfo = objectsIn(result, domain.name, "Deployment").filter((d) => d.object.metadata.namespace === "default");
            if (index !== 1) {
                expect(gateways).toEqual([]);
                expect(services).toEqual([]);
                expect(bookinfo).toEqual([]);
                continue;
            }
            const upstreamGateway = upstreamIngress.find((o) => o.kind === "Gateway")!;
            const upstreamRoute = upstreamIngress.find((o) => o.kind === "VirtualService")!;
            expect(gateways).toHaveLength(1);
            expect(gateways[0].object.metadata).toEqual({ name: upstreamGateway.metadata.name, namespace: "helloworld" });
            expect(gateways[0].object.spec).toEqual(upstreamGateway.spec);
            expect(services).toHaveLength(1);
            expect(services[0].object.metadata).toEqual({ name: upstreamRoute.metadata.name, namespace: "helloworld" });
            expect(services[0].object.spec).toEqual(upstreamRoute.spec);
            // The ingress gateway the selector must match: the chart labels release istio-ingressgateway `istio: ingressgateway`.
            const ingressRelease = result.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.provider.endsWith(`::${domain.name}`) && r.inputs.name === "istio-ingressgateway");
            expect(ingressRelease, "ingress gateway release").toBeDefined();
            expect(gateways[0].object.spec.selector).toEqual({ istio: "ingressgateway" });

            const upstreamDeployments = upstreamBookinfo.filter((o) => o.kind === "Deployment");
            expect(bookinfo.map((d) => d.object.metadata.name).sort()).toEqual(upstreamDeployments.map((d) => d.metadata.name).sort());
            for (const expected of upstreamDeployments) {
                const declared = bookinfo.find((d) => d.object.metadata.name === expected.metadata.name)!.object;
                const pod = declared.spec.template;
                expect(pod.spec.serviceAccountName).toBe(expected.spec.template.spec.serviceAccountName);
                expect(pod.spec.containers[0].image).toBe(expected.spec.template.spec.containers[0].image);
                expect(pod.spec.containers[0].env ?? []).toEqual(expected.spec.template.spec.containers[0].env ?? []);
                expect((pod.spec.containers[0].volumeMounts ?? []).map((m: { mountPath: string }) => m.mountPath).sort()).toEqual(
                    (expected.spec.template.spec.containers[0].volumeMounts ?? []).map((m: { mountPath: string }) => m.mountPath).sort(),
                );
                expect(pod.metadata.labels).toMatchObject(expected.spec.template.metadata.labels);
                // `default` is not labelled (not the program's namespace): the pod asks for injection itself.
                expect(pod.metadata.labels["sidecar.istio.io/inject"]).toBe("true");
                expect(pod.metadata.annotations["inject.istio.io/templates"]).toBe("sidecar,spire");
            }
            const bookinfoServices = objectsIn(result, domain.name, "Service").filter((s) => s.object.metadata.namespace === "default");
            const upstreamServices = upstreamBookinfo.filter((o) => o.kind === "Service");
            expect(bookinfoServices.map((s) => s.object.metadata.name).sort()).toEqual(upstreamServices.map((s) => s.metadata.name).sort());
            for (const expected of upstreamServices) {
                const declared = bookinfoServices.find((s) => s.object.metadata.name === expected.metadata.name)!.object;
                expect(declared.spec.ports).toEqual(expected.spec.ports);
                expect(declared.spec.selector).toEqual(expected.spec.selector);
            }
            const accounts = objectsIn(result, domain.name, "ServiceAccount").filter((a) => a.object.metadata.namespace === "default");
            expect(accounts.map((a) => a.object.metadata.name).sort()).toEqual(
                upstreamBookinfo.filter((o) => o.kind === "ServiceAccount").map((o) => o.metadata.name).sort(),
            );
            // The program never creates or patches `default` itself.
            expect(objectsIn(result, domain.name, "Namespace").map((n) => n.object.metadata.name)).not.toContain("default");
        }
    });

    it("accepts helloworld's SPIFFE ID from exactly every domain in an ISTIO_MUTUAL DestinationRule in each cluster", async () => {
        const result = await run();
        const expectedSans = domainsOf().map((d) => `spiffe://${d.trustDomain}/ns/helloworld/sa/helloworld`);
        for (const domain of domainsOf()) {
            const rules = objectsIn(result, domain.name, "DestinationRule");
            expect(rules).toHaveLength(1);
            expect(rules[0].object.metadata).toEqual({ name: "helloworld", namespace: "helloworld" });
            expect(rules[0].object.spec.host).toBe("helloworld.helloworld.svc.cluster.local");
            expect(rules[0].object.spec.trafficPolicy.tls.mode).toBe("ISTIO_MUTUAL");
            expect([...rules[0].object.spec.trafficPolicy.tls.subjectAltNames].sort()).toEqual([...expectedSans].sort());
        }
    });

    it("creates workloads and Istio CRs only after the cluster's istiod and ingress gateway, plain objects without waiting", async () => {
        const result = await run();
        for (const { resource, cluster, object } of sampleObjects(result)) {
            const releases = resource.dependsOn.map((urn) => result.byUrn(urn)).filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
            const waits = ["Deployment", "DestinationRule", "Gateway", "VirtualService"].includes(object.kind);
            if (!waits) {
                expect(releases, resource.name).toEqual([]);
                continue;
            }
            const names = releases.map((r) => r.inputs.name).sort();
            expect(names, resource.name).toEqual(expect.arrayContaining(["istiod", "istio-ingressgateway"]));
            for (const release of releases) expect(release.provider.split("::").pop(), resource.name).toBe(cluster);
        }
    });
});

describe("samplesEnabled", () => {
    it.each(stackNames)("false declares no sample on %s", async (stack) => {
        const run = await runProgram(program, { stack, projectConfig: { ...projectConfigOf(stack), samplesEnabled: false } });
        expect(run.ofType("spire-istio-mesh:index:SampleApps")).toEqual([]);
        const names = run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:")).map((r) => `${r.inputs.kind} ${r.inputs.metadata?.name}`);
        for (const sample of ["Namespace helloworld", "Namespace sleep", "Deployment sleep", "DestinationRule helloworld", "Deployment productpage-v1"]) {
            expect(names).not.toContain(sample);
        }
    });

    it("defaults to on", async () => {
        const run = await runProgram(program, { stack: "cluster-kind" });
        expect(run.ofType("spire-istio-mesh:index:SampleApps")).toHaveLength(2);
    });
});

describe("stack outputs", () => {
    it("give each domain its config position, which verify orders domains by", async () => {
        const run = await runProgram(program, { stack: "cluster-kind", projectConfig: withThirdDomain("cluster-kind") });
        const outputs = run.result.outputs;
        expect(Object.entries(outputs).map(([name, o]) => [name, o.index])).toEqual([
            ["cluster-1", 0],
            ["cluster-2", 1],
            ["cluster-3", 2],
        ]);
    });
});
