import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { meshNetworks, IstioValuesInput } from "../components/istio/values";
import { spireInjectionTemplates } from "../components/istio/injectionTemplates";
import { configKeys } from "../config/keys";
import { loadMeshConfig } from "../config/load";
import { DeployedMesh, deployMesh } from "../mesh";
import { defaultVersions, chartRepositories } from "../versions";
import { renderGoTemplate } from "./harness/goTemplate";
import { clusterCa } from "./harness/mocks";
import { DeclaredResource, isSecretOutput, ProgramRun, resolve, runProgram } from "./harness/program";
import {
    chartDefaults,
    KubernetesObject,
    meshConfigProblems,
    unknownHelmValuePaths,
    validateGatewayValues,
    validateKubernetesObject,
} from "./harness/schemas";
import { projectConfigOf, StackName, stackNames, withThirdDomain } from "./harness/stacks";

/** The API server CA the mocks give a cluster (its token Secrets' ca.crt, its GKE master CA). */
const clusterCaCertificate = async (cluster: string) => new X509Certificate(await clusterCa(cluster));

type Run = ProgramRun<DeployedMesh>;
type Values = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const program = () => deployMesh(loadMeshConfig());

interface DomainEntry {
    name: string;
    trustDomain: string;
    network: string;
}

interface Case {
    label: string;
    stack: StackName;
    projectConfig: Record<string, unknown>;
}

const cases: Case[] = stackNames.flatMap((stack) => [
    { label: stack, stack, projectConfig: projectConfigOf(stack) },
    { label: `${stack} with a third domain`, stack, projectConfig: withThirdDomain(stack) },
]);

const runs = new Map<string, Promise<Run>>();
function runOf(c: Case): Promise<Run> {
    if (!runs.has(c.label)) runs.set(c.label, runProgram(program, { stack: c.stack, projectConfig: c.projectConfig }));
    return runs.get(c.label)!;
}

// --- Expectations from config and upstream, never from the code under test -------------------

function domainsOf(c: Case): DomainEntry[] {
    return c.projectConfig.domains as DomainEntry[];
}
/** Pulumi.yaml: LoadBalancer on gke, NodePort on kind, unless `exposure` is set. */
function exposureOf(c: Case): string {
    return (c.projectConfig.exposure as string | undefined) ?? (c.stack === "cluster-kind" ? "NodePort" : "LoadBalancer");
}
function eastWestNodePortOf(c: Case): number {
    return (c.projectConfig.eastWestNodePort as number | undefined) ?? (configKeys.eastWestNodePort.default as number);
}
function ingressNodePortOf(c: Case): number {
    return (c.projectConfig.ingressHttpNodePort as number | undefined) ?? (configKeys.ingressHttpNodePort.default as number);
}

const gatewayChartDefaults = chartDefaults("istio-gateway") as Values;

/** What istiod knows of a pod when it renders the injection templates for it. */
interface PodView {
    /** istiod's decision for the pod (ENABLE_NATIVE_SIDECARS, or "auto" per node). */
    nativeSidecars: boolean;
    /** The pod's `sidecar.istio.io/nativeSidecar` annotation, if any. */
    annotation?: string;
}

/**
 * Where Istio 1.30.3 puts `istio-proxy` for a pod. The `sidecar` template
 * (istio-discovery files/injection-template.yaml:29) takes the pod's
 * `sidecar.istio.io/nativeSidecar` annotation, or when it is missing or empty istiod's decision,
 * and counts anything but "false" as native; native leaves the proxy in the `initContainers` list
 * opened at :80, otherwise opens `containers` for it (:184-187). The `gateway` template
 * (files/gateway-injection-template.yaml) has no such condition and always uses `containers`.
 */
function upstreamProxyList(builtIn: string, pod: PodView): "containers" | "initContainers" {
    if (builtIn === "gateway") return "containers";
    if (builtIn !== "sidecar") throw new Error(`unknown built-in template ${builtIn}`);
    const decision = pod.annotation || String(pod.nativeSidecars);
    return decision !== "false" ? "initContainers" : "containers";
}

/** istiod's possible decisions for a pod under an ENABLE_NATIVE_SIDECARS setting ("auto": either). */
function nativeDecisions(env: string | undefined): boolean[] {
    if (env === "true") return [true];
    if (env === "false") return [false];
    return [true, false];
}

/** Every pod istiod may render templates for: each decision, without and with each annotation. */
function podViews(decisions: boolean[]): PodView[] {
    return decisions.flatMap((nativeSidecars) => [undefined, "true", "false", ""].map((annotation) => ({ nativeSidecars, annotation })));
}

/** A template rendered as istiod would for that pod, parsed as the patch it applies. */
function renderedPatch(template: string, pod: PodView): Values {
    const annotations = pod.annotation === undefined ? {} : { "sidecar.istio.io/nativeSidecar": pod.annotation };
    const text = renderGoTemplate(template, { ObjectMeta: { Annotations: annotations }, NativeSidecars: pod.nativeSidecars });
    return parse(text, { strict: true, uniqueKeys: true }) as Values;
}

/** The patch puts the SPIRE socket into `istio-proxy` in `list` and adds nothing to the other list. */
function expectSocketPatch(patch: Values, list: "containers" | "initContainers", label: string): void {
    const otherList = list === "containers" ? "initContainers" : "containers";
    expect(Object.keys(patch), label).toEqual(["spec"]);
    expect(patch.spec[otherList], `${label}: must not add a second istio-proxy`).toBeUndefined();
    const proxies = ((patch.spec[list] ?? []) as Values[]).filter((container) => container.name === "istio-proxy");
    expect(proxies, label).toHaveLength(1);
    expect(proxies[0].volumeMounts, label).toEqual([
        { name: "workload-socket", mountPath: "/var/run/secrets/workload-spiffe-uds", readOnly: true },
    ]);
    expect(patch.spec.volumes, label).toEqual([{ name: "workload-socket", csi: { driver: "csi.spiffe.io", readOnly: true } }]);
}

// --- Lookups -----------------------------------------------------------------------------------

const releaseType = "kubernetes:helm.sh/v3:Release";
const secretType = "kubernetes:core/v1:Secret";

/** Cluster a Kubernetes resource lives in: providers are named after their cluster. */
function clusterOf(resource: DeclaredResource): string {
    return resource.provider.split("::").pop()!;
}
function inClusterOf(run: Run, type: string, cluster: string): DeclaredResource[] {
    return run.ofType(type).filter((r) => clusterOf(r) === cluster);
}
function istioRelease(run: Run, cluster: string, releaseName: string): DeclaredResource {
    const found = inClusterOf(run, releaseType, cluster).filter(
        (r) => r.inputs.name === releaseName && r.inputs.repositoryOpts?.repo === chartRepositories.istio,
    );
    expect(found, `${releaseName} in ${cluster}`).toHaveLength(1);
    return found[0];
}
function customResource(run: Run, cluster: string, kind: string, name: string): DeclaredResource {
    const found = run.resources.filter(
        (r) => r.custom && r.inputs.kind === kind && r.inputs.metadata?.name === name && clusterOf(r) === cluster,
    );
    expect(found, `${kind} ${name} in ${cluster}`).toHaveLength(1);
    return found[0];
}
async function nodeAddressOf(run: Run, cluster: string): Promise<string> {
    const domain = run.result.domains.find((d) => d.config.name === cluster)!;
    return resolve(domain.cluster.nodeAddress!);
}
async function apiServerUrlOf(run: Run, cluster: string): Promise<string> {
    return resolve(run.result.domains.find((d) => d.config.name === cluster)!.cluster.apiServerUrl);
}
/** The token Secret `cluster` issued to `reader` (a peer trust domain). */
function readerTokenSecret(run: Run, cluster: string, reader: string): DeclaredResource {
    const found = inClusterOf(run, secretType, cluster).filter(
        (r) => r.inputs.type === "kubernetes.io/service-account-token" && r.inputs.metadata.annotations["kubernetes.io/service-account.name"] === `peer-reader-${reader}`,
    );
    expect(found, `reader token of ${reader} in ${cluster}`).toHaveLength(1);
    return found[0];
}

/** A (Cluster)Role rule as the Kubernetes API takes it. */
interface Rule {
    apiGroups: string[];
    resources: string[];
    verbs: string[];
    resourceNames?: string[];
}

/** Whether RBAC rules allow a request, as the API server's RBAC authorizer decides (wildcards included). */
function allows(rules: Rule[], request: { verb: string; group: string; resource: string; name?: string }): boolean {
    const matches = (list: string[] | undefined, value: string) => (list ?? []).some((item) => item === "*" || item === value);
    return rules.some(
        (rule) =>
            matches(rule.verbs, request.verb) &&
            matches(rule.apiGroups, request.group) &&
            matches(rule.resources, request.resource) &&
            (rule.resourceNames === undefined || rule.resourceNames.length === 0 || (request.name !== undefined && rule.resourceNames.includes(request.name))),
    );
}

describe.each(cases)("Istio multi-primary ($label)", (c) => {
    const domains = domainsOf(c);
    const peersOf = (name: string) => domains.filter((d) => d.name !== name);

    it("installs base, istiod and both gateways from the pinned Istio charts into each cluster's istio-system", async () => {
        const run = await runOf(c);
        for (const { name } of domains) {
            for (const [release, chart] of [
                ["istio-base", "base"],
                ["istiod", "istiod"],
                ["istio-eastwestgateway", "gateway"],
                ["istio-ingressgateway", "gateway"],
            ]) {
                const r = istioRelease(run, name, release);
                expect(r.inputs).toMatchObject({ chart, version: defaultVersions.istio, namespace: "istio-system" });
            }
        }
        expect(run.ofType(releaseType).filter((r) => r.inputs.repositoryOpts?.repo === chartRepositories.istio)).toHaveLength(
            4 * domains.length,
        );
    });

    it("sets only values the charts and Istio's MeshConfig declare; gateway values pass the chart's schema", async () => {
        const run = await runOf(c);
        for (const { name } of domains) {
            expect(unknownHelmValuePaths("istio-base", istioRelease(run, name, "istio-base").inputs.values)).toEqual([]);
            const istiod = istioRelease(run, name, "istiod").inputs.values as Values;
            expect(unknownHelmValuePaths("istiod", istiod)).toEqual([]);
            expect(meshConfigProblems(istiod.meshConfig)).toEqual([]);
            for (const gateway of ["istio-eastwestgateway", "istio-ingressgateway"]) {
                const values = istioRelease(run, name, gateway).inputs.values;
                expect(unknownHelmValuePaths("istio-gateway", values)).toEqual([]);
                expect(validateGatewayValues(values)).toEqual([]);
            }
        }
    });

    it("gives each istiod the mesh ID, its cluster, network and SPIRE trust domain, its peers' trust domains for mTLS but not as aliases, and DNS capture", async () => {
        const run = await runOf(c);
        for (const domain of domains) {
            const values = istioRelease(run, domain.name, "istiod").inputs.values as Values;
            expect(values.global.meshID).toBe(c.projectConfig.meshId);
            expect(values.global.multiCluster.clusterName).toBe(domain.name);
            expect(values.global.network).toBe(domain.network);
            expect(values.meshConfig.trustDomain).toBe(domain.trustDomain);
            // An alias would let a peer's identity satisfy a policy written for this domain's.
            expect(values.meshConfig.trustDomainAliases).toEqual([]);
            // One entry per peer, no certificate in it: trust for mTLS only, scoped per domain.
            expect(values.meshConfig.caCertificates).toHaveLength(peersOf(domain.name).length);
            for (const entry of values.meshConfig.caCertificates) expect(Object.keys(entry)).toEqual(["trustDomains"]);
            expect(values.meshConfig.caCertificates.flatMap((entry: Values) => entry.trustDomains).sort()).toEqual(peersOf(domain.name).map((p) => p.trustDomain).sort());
            // No stock reader role: it would grant every peer every Secret of this cluster.
            expect(values.global.enableReaderRBAC).toBe(false);
            expect(istioRelease(run, domain.name, "istio-base").inputs.values.global.enableReaderRBAC).toBe(false);
            // ProxyConfig.proxyMetadata is map<string, string>: a boolean would be refused.
            expect(values.meshConfig.defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE).toBe("true");
        }
    });

    if (exposureOf(c) === "NodePort") {
        it("tells every istiod each peer network's gateway (peer node address and east-west node port), none of its own", async () => {
            const run = await runOf(c);
            for (const domain of domains) {
                const networks = (istioRelease(run, domain.name, "istiod").inputs.values as Values).global.meshNetworks as Values;
                expect(Object.keys(networks).sort()).toEqual(domains.map((d) => d.network).sort());
                expect(networks[domain.network]).toEqual({ endpoints: [{ fromRegistry: domain.name }] });
                for (const peer of peersOf(domain.name)) {
                    expect(networks[peer.network]).toEqual({
                        endpoints: [{ fromRegistry: peer.name }],
                        gateways: [{ address: await nodeAddressOf(run, peer.name), port: eastWestNodePortOf(c) }],
                    });
                }
                const own = await nodeAddressOf(run, domain.name);
                const addresses = Object.values(networks).flatMap((n: Values) => (n.gateways ?? []).map((g: Values) => g.address));
                expect(addresses).not.toContain(own);
            }
        });
    } else {
        it("writes no gateway address into istiod: each network's east-west Service is found in its own registry", async () => {
            const run = await runOf(c);
            const tlsPort = gatewayChartDefaults.networkGatewayPorts.tls.port as number;
            for (const domain of domains) {
                const networks = (istioRelease(run, domain.name, "istiod").inputs.values as Values).global.meshNetworks as Values;
                expect(Object.keys(networks).sort()).toEqual(domains.map((d) => d.network).sort());
                for (const owner of domains) {
                    const eastWest = istioRelease(run, owner.name, "istio-eastwestgateway").inputs;
                    // The chart names the Service after the release.
                    const service = `${eastWest.name}.${eastWest.namespace}.svc.cluster.local`;
                    expect(networks[owner.network]).toEqual({
                        endpoints: [{ fromRegistry: owner.name }],
                        gateways: [{ registryServiceName: service, port: tlsPort }],
                    });
                }
                expect(JSON.stringify(networks)).not.toContain('"address"');
            }
        });
    }

    it("mounts the SPIRE CSI socket into istio-proxy in the container list it lives in, for sidecars and gateways", async () => {
        const run = await runOf(c);
        for (const { name } of domains) {
            const values = istioRelease(run, name, "istiod").inputs.values as Values;
            const nativeEnv = values.env?.ENABLE_NATIVE_SIDECARS ?? values.pilot?.env?.ENABLE_NATIVE_SIDECARS;
            // Pods without an annotation (sidecars) use the default list; gateways name theirs.
            const sidecarList: string[] = values.sidecarInjectorWebhook.defaultTemplates;
            const gatewayLists = ["istio-eastwestgateway", "istio-ingressgateway"].map((g) =>
                String(istioRelease(run, name, g).inputs.values.podAnnotations["inject.istio.io/templates"]).split(","),
            );
            expect(gatewayLists).toEqual([
                ["gateway", "spire-gateway"],
                ["gateway", "spire-gateway"],
            ]);
            expect(sidecarList).toEqual(["sidecar", "spire"]);
            const templates = values.sidecarInjectorWebhook.templates as Record<string, string>;
            for (const [builtIn, custom] of [sidecarList, gatewayLists[0]]) {
                for (const pod of podViews(nativeDecisions(nativeEnv))) {
                    const label = `${custom} for ${JSON.stringify(pod)}`;
                    expectSocketPatch(renderedPatch(templates[custom], pod), upstreamProxyList(builtIn, pod), label);
                }
            }
        }
    });

    it("exposes the east-west gateway on the network with 15443 alone, per exposure mode", async () => {
        const run = await runOf(c);
        // The chart's network gateway would add the status port and istiod's 15012/15017, which a
        // multi-primary mesh never sends to a peer's gateway.
        const chartNetworkPorts = Object.values(gatewayChartDefaults.networkGatewayPorts as Record<string, { port: number }>).map((p) => p.port);
        expect(chartNetworkPorts.sort()).toEqual([15012, 15017, 15021, 15443]);
        for (const domain of domains) {
            const values = istioRelease(run, domain.name, "istio-eastwestgateway").inputs.values as Values;
            // Not networkGateway: it renders all four ports whatever service.ports says.
            expect(values.networkGateway ?? "").toBe("");
            expect(values.networkGatewayPorts).toBeUndefined();
            expect(values.labels["topology.istio.io/network"]).toBe(domain.network);
            expect(values.env.ISTIO_META_REQUESTED_NETWORK_VIEW).toBe(domain.network);
            expect(values.service.type).toBe(exposureOf(c));
            const nodePort = exposureOf(c) === "NodePort" ? { nodePort: eastWestNodePortOf(c) } : {};
            expect(values.service.ports).toEqual([{ name: "tls", port: 15443, targetPort: 15443, protocol: "TCP", ...nodePort }]);
        }
    });

    it("exposes the ingress gateway on 15021/80/443, HTTP on the fixed node port in NodePort mode", async () => {
        const run = await runOf(c);
        const chartPorts = (gatewayChartDefaults.service.ports as Values[]).map((p) => p.port).sort();
        expect(chartPorts).toEqual([15021, 443, 80].sort());
        for (const domain of domains) {
            const values = istioRelease(run, domain.name, "istio-ingressgateway").inputs.values as Values;
            expect(values.networkGateway).toBeUndefined();
            if (exposureOf(c) === "LoadBalancer") {
                expect(values.service.type).toBe("LoadBalancer");
                expect(values.service.ports).toBeUndefined();
            } else {
                expect(values.service.type).toBe("NodePort");
                const ports = values.service.ports as Values[];
                expect(ports.map((p) => p.port).sort()).toEqual(chartPorts);
                expect(ports.find((p) => p.port === 80)!.nodePort).toBe(ingressNodePortOf(c));
            }
        }
    });

    it("declares the cross-network Gateway and mesh-wide STRICT mTLS in istio-system, valid, after the charts", async () => {
        const run = await runOf(c);
        for (const { name } of domains) {
            const base = istioRelease(run, name, "istio-base");
            const istiod = istioRelease(run, name, "istiod");
            const eastWest = istioRelease(run, name, "istio-eastwestgateway");
            const gateway = customResource(run, name, "Gateway", "cross-network-gateway");
            expect(gateway.inputs.apiVersion).toBe("networking.istio.io/v1");
            expect(gateway.inputs.metadata.namespace).toBe("istio-system");
            // The chart labels pods `istio: <release name without the istio- prefix>`.
            expect(gateway.inputs.spec.selector).toEqual({ istio: String(eastWest.inputs.name).replace(/^istio-/, "") });
            expect(gateway.inputs.spec.servers).toEqual([
                { port: { number: 15443, name: "tls", protocol: "TLS" }, tls: { mode: "AUTO_PASSTHROUGH" }, hosts: ["*.local"] },
            ]);
            const peerAuthentication = customResource(run, name, "PeerAuthentication", "default");
            expect(peerAuthentication.inputs.apiVersion).toBe("security.istio.io/v1");
            // `default` in the root namespace (istio-system) applies to the whole mesh.
            expect(peerAuthentication.inputs.metadata.namespace).toBe("istio-system");
            expect(peerAuthentication.inputs.spec).toEqual({ mtls: { mode: "STRICT" } });
            for (const cr of [gateway, peerAuthentication]) {
                expect(validateKubernetesObject(cr.inputs as KubernetesObject)).toEqual([]);
                expect(cr.dependsOn).toEqual(expect.arrayContaining([base.urn, istiod.urn]));
            }
        }
    });

    it("declares only valid Kubernetes objects in its Istio components, each through its cluster's provider", async () => {
        const run = await runOf(c);
        const istioTypes = ["spire-istio-mesh:index:IstioMultiPrimary", "spire-istio-mesh:index:IstioRemoteSecrets"];
        const owned = run.resources.filter(
            (r) => r.custom && r.type.startsWith("kubernetes:") && run.ancestors(r).some((a) => istioTypes.includes(a.type)),
        );
        // Per cluster: 4 releases, 2 Istio CRs, the reader ClusterRole and Role, and per peer a remote
        // secret and a reader credential (ServiceAccount, token, ClusterRoleBinding, RoleBinding).
        expect(owned).toHaveLength(domains.length * (8 + 5 * (domains.length - 1)));
        for (const resource of owned) {
            // Remote secrets sit under their holder's primary, so this is the cluster they belong in.
            const primary = run.ancestors(resource).find((a) => a.type === istioTypes[0])!;
            expect(resource.provider).toContain("pulumi:providers:kubernetes::");
            expect(clusterOf(resource)).toBe(primary.name);
            if (resource.type === releaseType) continue;
            expect(validateKubernetesObject(resource.inputs as KubernetesObject), resource.name).toEqual([]);
        }
    });

    it("starts istiod after its cacerts Certificate and federated SPIRE, and the gateways after istiod as well", async () => {
        const run = await runOf(c);
        for (const { name } of domains) {
            // istiod reads its plug-in CA from Secret `cacerts`; SPIRE needs every peer's bundle.
            const cacerts = inClusterOf(run, "kubernetes:cert-manager.io/v1:Certificate", name).filter(
                (r) => r.inputs.spec?.secretName === "cacerts",
            );
            expect(cacerts).toHaveLength(1);
            const spire = inClusterOf(run, releaseType, name).filter((r) => r.inputs.chart === "spire");
            expect(spire).toHaveLength(1);
            const federation = inClusterOf(run, "kubernetes:spire.spiffe.io/v1alpha1:ClusterFederatedTrustDomain", name);
            expect(federation).toHaveLength(peersOf(name).length);
            const trust = [cacerts[0], spire[0], ...federation].map((r) => r.urn);

            const base = istioRelease(run, name, "istio-base");
            const istiod = istioRelease(run, name, "istiod");
            expect(istiod.dependsOn).toEqual(expect.arrayContaining([base.urn, ...trust]));
            for (const gateway of ["istio-eastwestgateway", "istio-ingressgateway"]) {
                expect(istioRelease(run, name, gateway).dependsOn).toEqual(expect.arrayContaining([istiod.urn, ...trust]));
            }
            // Nothing of Istio waits on the charts it does not need: base only needs the namespace.
            expect(base.dependsOn).not.toContain(istiod.urn);
        }
    });

    it("issues every peer trust domain a reader ServiceAccount and token of its own, bound to the program's reader roles only", async () => {
        const run = await runOf(c);
        for (const { name } of domains) {
            const peers = peersOf(name).map((p) => p.trustDomain);
            const accounts = inClusterOf(run, "kubernetes:core/v1:ServiceAccount", name).filter((a) => a.inputs.metadata.namespace === "istio-system");
            expect(accounts.map((a) => a.inputs.metadata.name).sort()).toEqual(peers.map((td) => `peer-reader-${td}`).sort());
            const clusterRoles = inClusterOf(run, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", name);
            const roles = inClusterOf(run, "kubernetes:rbac.authorization.k8s.io/v1:Role", name);
            expect(clusterRoles).toHaveLength(1);
            expect(roles).toHaveLength(1);
            expect(roles[0].inputs.metadata.namespace).toBe("istio-system");
            for (const peer of peers) {
                const account = accounts.find((a) => a.inputs.metadata.name === `peer-reader-${peer}`)!;
                expect(account.inputs.metadata.namespace).toBe("istio-system");
                expect(account.inputs.automountServiceAccountToken).toBe(false);
                const token = readerTokenSecret(run, name, peer);
                expect(token.inputs.metadata.namespace).toBe("istio-system");
                expect(token.inputs.metadata.annotations["pulumi.com/waitFor"]).toBe("jsonpath={.data.token}");
                expect(token.additionalSecretOutputs).toContain("data");
                expect(token.dependsOn).toContain(account.urn);
                // Bound exactly twice, to the program's ClusterRole and to its Role in istio-system.
                const subjectOf = (binding: DeclaredResource) => binding.inputs.subjects;
                const bindings = [
                    ...inClusterOf(run, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", name),
                    ...inClusterOf(run, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", name),
                ].filter((binding) => subjectOf(binding).some((subject: Values) => subject.name === `peer-reader-${peer}`));
                expect(bindings.map((binding) => `${binding.inputs.roleRef.kind}/${binding.inputs.roleRef.name}`).sort()).toEqual([
                    `ClusterRole/${clusterRoles[0].inputs.metadata.name}`,
                    `Role/${roles[0].inputs.metadata.name}`,
                ]);
                for (const binding of bindings) {
                    expect(subjectOf(binding)).toEqual([{ kind: "ServiceAccount", name: `peer-reader-${peer}`, namespace: "istio-system" }]);
                }
            }
        }
        for (const domain of run.result.domains) {
            const credentials = Object.values(domain.istio.readers.credentials);
            expect(credentials).toHaveLength(peersOf(domain.config.name).length);
            for (const credential of credentials) expect(await isSecretOutput(credential)).toBe(true);
        }
    });

    it("lets a peer's credential read what a remote istiod watches, and no Secret, write or wildcard", async () => {
        const run = await runOf(c);
        for (const { name } of domains) {
            const clusterRules = inClusterOf(run, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", name)[0].inputs.rules as Rule[];
            const namespaceRules = inClusterOf(run, "kubernetes:rbac.authorization.k8s.io/v1:Role", name)[0].inputs.rules as Rule[];
            const anywhere = (request: { verb: string; group: string; resource: string; name?: string }) => allows(clusterRules, request);
            const inIstioSystem = (request: { verb: string; group: string; resource: string; name?: string }) =>
                allows(clusterRules, request) || allows(namespaceRules, request);
            // What Istio 1.30.3 builds informers for in a remote cluster (see components/peerReaders.ts for the code paths).
            const watched: [string, string][] = [
                ["", "namespaces"],
                ["", "services"],
                ["", "pods"],
                ["", "nodes"],
                ["discovery.k8s.io", "endpointslices"],
                ["apiextensions.k8s.io", "customresourcedefinitions"],
                ["gateway.networking.k8s.io", "gateways"],
                ["networking.istio.io", "workloadentries"],
            ];
            for (const [group, resource] of watched) {
                for (const verb of ["get", "list", "watch"]) expect(anywhere({ verb, group, resource }), `${verb} ${group}/${resource}`).toBe(true);
            }
            // The peer's own mesh config (for its trust domain), by name, in istio-system only.
            for (const verb of ["get", "list", "watch"]) {
                expect(inIstioSystem({ verb, group: "", resource: "configmaps", name: "istio" })).toBe(true);
                expect(inIstioSystem({ verb, group: "", resource: "configmaps", name: "istio-ca-root-cert" })).toBe(false);
                expect(inIstioSystem({ verb, group: "", resource: "configmaps" })).toBe(false);
                expect(anywhere({ verb, group: "", resource: "configmaps", name: "istio" })).toBe(false);
            }
            // No Secret, by any verb, anywhere: root and CA keys, cacerts, tokens of other peers.
            for (const verb of ["get", "list", "watch", "create", "update", "patch", "delete"]) {
                expect(inIstioSystem({ verb, group: "", resource: "secrets" }), verb).toBe(false);
                expect(inIstioSystem({ verb, group: "", resource: "secrets", name: "cacerts" }), verb).toBe(false);
            }
            // Nothing but reads, and nothing the stock reader role added besides.
            for (const rule of [...clusterRules, ...namespaceRules]) {
                expect([...rule.verbs].sort(), JSON.stringify(rule)).toEqual(["get", "list", "watch"]);
                expect([...rule.apiGroups, ...rule.resources, ...rule.verbs, ...(rule.resourceNames ?? [])]).not.toContain("*");
            }
            for (const [group, resource] of [
                ["multicluster.x-k8s.io", "serviceexports"],
                ["authentication.k8s.io", "tokenreviews"],
                ["authorization.k8s.io", "subjectaccessreviews"],
                ["security.istio.io", "authorizationpolicies"],
                ["", "endpoints"],
            ]) {
                for (const verb of ["get", "list", "create", "delete"]) expect(anywhere({ verb, group, resource }), `${verb} ${group}/${resource}`).toBe(false);
            }
        }
    });

    it("gives each cluster a remote secret for every peer and none for itself, holding a secret kubeconfig of the peer", async () => {
        const run = await runOf(c);
        for (const holder of domains) {
            const secrets = inClusterOf(run, secretType, holder.name).filter(
                (r) => r.inputs.metadata?.labels?.["istio/multiCluster"] === "true",
            );
            expect(secrets.map((s) => s.inputs.metadata.name).sort()).toEqual(
                peersOf(holder.name).map((p) => `istio-remote-secret-${p.name}`).sort(),
            );
            const holderDomain = run.result.domains.find((d) => d.config.name === holder.name)!;
            const owner = holderDomain.cluster.lifecycleOwner;
            for (const secret of secrets) {
                const peer = String(secret.inputs.metadata.annotations["networking.istio.io/cluster"]);
                expect(secret.inputs.metadata.name).toBe(`istio-remote-secret-${peer}`);
                expect(secret.inputs.metadata.namespace).toBe("istio-system");
                expect(secret.secretInputPaths).toContain("stringData");
                if (owner) expect(secret.deletedWith).toBe(await resolve(owner.urn));
                // The data key is the cluster ID istiod registers the peer under.
                expect(Object.keys(secret.inputs.stringData)).toEqual([peer]);
                const kubeconfig = parse(secret.inputs.stringData[peer]) as Values;
                expect(kubeconfig.kind).toBe("Config");
                expect(kubeconfig["current-context"]).toBe(peer);
                const cluster = kubeconfig.clusters.find((entry: Values) => entry.name === peer).cluster;
                const server = await apiServerUrlOf(run, peer);
                expect(cluster.server).toBe(server);
                expect(cluster.server).not.toMatch(/127\.0\.0\.1|localhost/);
                if (c.stack === "cluster-kind") expect(cluster.server).toMatch(/^https:\/\/172\.18\.0\.\d+:6443$/);
                const ca = new X509Certificate(Buffer.from(cluster["certificate-authority-data"], "base64").toString("utf8"));
                expect(ca.ca).toBe(true);
                // The peer's API server CA (from the peer's own token Secret), not the holder's.
                expect(ca.subject).toBe((await clusterCaCertificate(peer)).subject);
                expect(ca.subject).not.toBe((await clusterCaCertificate(holder.name)).subject);
                // The token is the one the peer issued to the holder's trust domain (a JWT of that
                // account, from the peer's token Secret), decoded: never another holder's.
                const user = kubeconfig.users.find((entry: Values) => entry.name === peer).user;
                expect(Object.keys(user)).toEqual(["token"]);
                const payload = JSON.parse(Buffer.from(String(user.token).split(".")[1], "base64").toString("utf8"));
                expect(payload["mock/resource"]).toBe(readerTokenSecret(run, peer, holder.trustDomain).name);
                expect(payload.sub).toBe(`system:serviceaccount:istio-system:peer-reader-${holder.trustDomain}`);
            }
        }
    });

    it("declares each remote secret after the peer bound the holder's reader to its roles", async () => {
        const run = await runOf(c);
        for (const holder of domains) {
            const secrets = inClusterOf(run, secretType, holder.name).filter(
                (r) => r.inputs.metadata?.labels?.["istio/multiCluster"] === "true",
            );
            expect(secrets).toHaveLength(peersOf(holder.name).length);
            for (const secret of secrets) {
                const peer = String(secret.inputs.metadata.annotations["networking.istio.io/cluster"]);
                // Before its bindings exist the token authenticates but may read nothing.
                const bindings = [
                    ...inClusterOf(run, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", peer),
                    ...inClusterOf(run, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", peer),
                ].filter((binding) => binding.inputs.subjects.some((subject: Values) => subject.name === `peer-reader-${holder.trustDomain}`));
                expect(bindings).toHaveLength(2);
                for (const binding of bindings) expect(secret.dependsOn).toContain(binding.urn);
                expect(secret.dependsOn).toContain(readerTokenSecret(run, peer, holder.trustDomain).urn);
            }
        }
    });

    it("outputs each domain's network and gateway addresses as host:port", async () => {
        const run = await runOf(c);
        const seen: string[] = [];
        for (const domain of domains) {
            const outputs = run.result.outputs[domain.name];
            expect(outputs.network).toBe(domain.network);
            const eastWest = await resolve(outputs.eastWestAddress);
            const ingress = await resolve(outputs.ingressAddress);
            if (exposureOf(c) === "NodePort") {
                const node = await nodeAddressOf(run, domain.name);
                expect(eastWest).toBe(`${node}:${eastWestNodePortOf(c)}`);
                expect(ingress).toBe(`${node}:${ingressNodePortOf(c)}`);
            } else {
                // Read back from the Services the charts created, in this domain's cluster.
                const addressOfService = (service: string) => {
                    const reads = run.read.filter(
                        (r) => r.id === `istio-system/${service}` && r.provider.endsWith(`pulumi:providers:kubernetes::${domain.name}`),
                    );
                    expect(reads, service).toHaveLength(1);
                    const status = reads[0].state.status as { loadBalancer: { ingress: { ip: string }[] } };
                    return status.loadBalancer.ingress[0].ip;
                };
                expect(eastWest).toBe(`${addressOfService("istio-eastwestgateway")}:15443`);
                expect(ingress).toBe(`${addressOfService("istio-ingressgateway")}:80`);
                seen.push(eastWest.split(":")[0], ingress.split(":")[0]);
            }
        }
        expect(new Set(seen).size).toBe(seen.length);
    });
});

describe("peer reader credentials when a domain joins", () => {
    it.each(stackNames)("keeps every existing peer's credential as it was and adds the new domain's (%s)", async (stack) => {
        const two = await runOf(cases.find((c) => c.label === stack)!);
        const three = await runOf(cases.find((c) => c.label === `${stack} with a third domain`)!);
        const credentialTypes = [
            "kubernetes:core/v1:ServiceAccount",
            "kubernetes:core/v1:Secret",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
            "kubernetes:rbac.authorization.k8s.io/v1:Role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
        ];
        const credentialsOf = (run: Run) =>
            new Map(
                run.resources
                    .filter((r) => credentialTypes.includes(r.type) && run.ancestors(r).some((a) => a.type === "spire-istio-mesh:index:PeerReaders"))
                    .map((r) => [r.urn, r]),
            );
        const before = credentialsOf(two);
        const after = credentialsOf(three);
        expect(before.size).toBeGreaterThan(0);
        // Same URN and same inputs: the engine neither replaces nor changes them, so no token is re-issued.
        for (const [urn, resource] of before) {
            expect(after.has(urn), urn).toBe(true);
            expect(after.get(urn)!.inputs, urn).toEqual(resource.inputs);
        }
        const added = [...after.keys()].filter((urn) => !before.has(urn));
        const thirdTrustDomain = (withThirdDomain(stack).domains as { trustDomain: string }[])[2].trustDomain;
        // The third cluster's own roles and one credential per peer, plus one for it in each existing cluster.
        const accounts = added.filter((urn) => urn.includes("ServiceAccount")).map((urn) => after.get(urn)!.inputs.metadata.name).sort();
        expect(accounts.filter((name) => name === `peer-reader-${thirdTrustDomain}`)).toHaveLength(2);
        expect(accounts).toHaveLength(4);
    });
});

describe("the Go template subset the injection tests render with", () => {
    // Expected outputs are what Go's text/template printed for the same templates and data.
    it.each([
        ["a  {{- if .X }} yes {{- else }} no {{- end -}}  b", { X: true }, "a yesb"],
        ["a  {{- if .X }} yes {{- else }} no {{- end -}}  b", { X: "" }, "a nob"],
        ["{{ $v := .X }}{{ with .M.k }}{{ $v = . }}{{ end }}[{{ $v }}]", { X: "x", M: { k: "set" } }, "[set]"],
        ['{{ $v := .X }}{{ with index .M "k" }}{{ $v = . }}{{ end }}[{{ $v }}]', { X: "x", M: {} }, "[x]"],
        ['{{ ne (index .M "k") "false" }}', { M: { k: "false" } }, "false"],
    ])("renders %j as Go does", (template, data, expected) => {
        expect(renderGoTemplate(template, data)).toBe(expected);
    });

    it("refuses what it does not implement instead of rendering it wrong", () => {
        expect(() => renderGoTemplate("{{ range .L }}x{{ end }}", { L: [1] })).toThrow(/unsupported/);
        expect(() => renderGoTemplate('{{ .X | default "y" }}', { X: "" })).toThrow(/pipelines/);
        expect(() => renderGoTemplate("{{ printf .X }}", { X: "" })).toThrow(/unsupported function printf/);
    });
});

describe("Istio configuration choices", () => {
    it("follows configured node ports", async () => {
        const projectConfig = { ...projectConfigOf("cluster-kind"), eastWestNodePort: 32001, ingressHttpNodePort: 32002 };
        const run = await runProgram(program, { stack: "cluster-kind", projectConfig });
        const eastWest = run.ofType(releaseType).filter((r) => r.inputs.name === "istio-eastwestgateway");
        expect(eastWest).toHaveLength(2);
        for (const release of eastWest) {
            expect(release.inputs.values.service.ports.find((p: Values) => p.port === 15443).nodePort).toBe(32001);
        }
        const ingress = run.ofType(releaseType).filter((r) => r.inputs.name === "istio-ingressgateway");
        expect(ingress).toHaveLength(2);
        for (const release of ingress) {
            expect(release.inputs.values.service.ports.find((p: Values) => p.port === 80).nodePort).toBe(32002);
        }
        for (const release of run.ofType(releaseType).filter((r) => r.inputs.name === "istiod")) {
            const gateways = Object.values(release.inputs.values.global.meshNetworks as Values).flatMap((n: Values) => n.gateways ?? []);
            expect(gateways.map((g: Values) => g.port)).toEqual([32001]);
        }
    });

    it("restricts the ingress gateway to the clients' ranges and the east-west gateway to the peers' ranges", async () => {
        const clients = ["203.0.113.0/24"];
        const peers = ["198.51.100.0/24", "192.0.2.10/32"];
        const rangesOf = (run: Run, gateway: string) => {
            const releases = run.ofType(releaseType).filter((r) => r.inputs.name === gateway);
            expect(releases).toHaveLength(2);
            return releases.map((r) => r.inputs.values.service.loadBalancerSourceRanges as string[] | undefined);
        };
        const both = await runProgram(program, {
            stack: "cluster-gke",
            projectConfig: { ...projectConfigOf("cluster-gke"), loadBalancerSourceRanges: clients, peerSourceRanges: peers },
        });
        expect(rangesOf(both, "istio-ingressgateway")).toEqual([clients, clients]);
        expect(rangesOf(both, "istio-eastwestgateway")).toEqual([peers, peers]);
        // Peers' proxies come from their own egress addresses: the clients' ranges alone must
        // not close the east-west gateway to them.
        const clientsOnly = await runProgram(program, {
            stack: "cluster-gke",
            projectConfig: { ...projectConfigOf("cluster-gke"), loadBalancerSourceRanges: clients },
        });
        expect(rangesOf(clientsOnly, "istio-ingressgateway")).toEqual([clients, clients]);
        expect(rangesOf(clientsOnly, "istio-eastwestgateway")).toEqual([undefined, undefined]);
        const open = await runOf(cases.find((x) => x.label === "cluster-gke")!);
        for (const gateway of ["istio-eastwestgateway", "istio-ingressgateway"]) {
            expect(rangesOf(open, gateway)).toEqual([undefined, undefined]);
        }
    });

    it("in adopted clusters, deletes istio-system (and the Istio pods in it) before the SPIRE release and its CSI driver", async () => {
        const config = projectConfigOf("cluster-kind");
        const domains = (config.domains as DomainEntry[]).map((d) => ({ ...d, kind: { context: `kind-${d.name}` } }));
        const run = await runProgram(program, { stack: "cluster-kind", projectConfig: { ...config, domains } });
        for (const { name } of domains) {
            const namespaces = inClusterOf(run, "kubernetes:core/v1:Namespace", name).filter((n) => n.inputs.metadata.name === "istio-system");
            expect(namespaces).toHaveLength(1);
            const spire = inClusterOf(run, releaseType, name).filter((r) => r.inputs.chart === "spire");
            expect(spire).toHaveLength(1);
            // Deleted on its own (no cluster deletion takes it along), after what depends on it.
            expect(namespaces[0].deletedWith).toBe("");
            expect(spire[0].deletedWith).toBe("");
            // Pulumi deletes dependents first: the namespace, which waits for its pods, goes before SPIRE.
            expect(namespaces[0].dependsOn).toContain(spire[0].urn);
        }
    });

    it("previews without failing while cluster, token and Service outputs are unknown", async () => {
        for (const stack of stackNames) {
            const run = await runProgram(program, { stack, preview: true });
            expect(run.ofType(releaseType).filter((r) => r.inputs.name === "istiod")).toHaveLength(2);
        }
    });

    it("patches the container list Istio's own template chose for the pod, whatever istiod decided and the pod asked", () => {
        const templates = spireInjectionTemplates();
        for (const pod of podViews([true, false])) {
            expectSocketPatch(renderedPatch(templates.spire, pod), upstreamProxyList("sidecar", pod), `spire for ${JSON.stringify(pod)}`);
            expectSocketPatch(renderedPatch(templates["spire-gateway"], pod), upstreamProxyList("gateway", pod), `spire-gateway for ${JSON.stringify(pod)}`);
        }
        // Both layouts occur, so neither list is patched unconditionally.
        const lists = podViews([true, false]).map((pod) => Object.keys(renderedPatch(templates.spire, pod).spec)[0]);
        expect(new Set(lists)).toEqual(new Set(["containers", "initContainers"]));
    });

    it("refuses NodePort exposure when a peer has no node address to point at", () => {
        const input: IstioValuesInput = {
            meshId: "m",
            clusterName: "cluster-1",
            network: "net-1",
            trustDomain: "foo.com",
            peers: [{ clusterName: "cluster-2", network: "net-2", trustDomain: "bar.com" }],
            exposure: "NodePort",
            nodePorts: { eastWest: 31443, ingressHttp: 30080 },
            loadBalancerSourceRanges: [],
            peerSourceRanges: [],
        };
        expect(() => meshNetworks(input)).toThrow(/cluster-2 has no node address/);
    });
});
