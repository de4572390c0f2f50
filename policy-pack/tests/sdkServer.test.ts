import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";
import { describe, expect, it } from "vitest";
import { packName, policyModules } from "../pack";
import { tokenKubeconfig } from "../../lib/kubeconfig";
import { PlainResource, rootStackType } from "../lib/resource";
import { meshStack, meshWidePeerAuthentication, mutate, providerUrn, resource, spireRelease, domains, without, defaultProviderUrn } from "./fixtures";

// The policy SDK's own request handlers, exactly as its gRPC server registers them: the pack runs
// here the way `pulumi preview --policy-pack` runs it, minus the network.
type Handler = (call: { request: unknown }, callback: (error: unknown, response: unknown) => void) => Promise<void>;
type Policies = (ResourceValidationPolicy | StackValidationPolicy)[];
// eslint-disable-next-line @typescript-eslint/no-require-imports
const server = require("@pulumi/policy/server") as Record<"makeAnalyzeRpcFun" | "makeAnalyzeStackRpcFun" | "makeRemediateRpcFun", (name: string, version: string, level: string, policies: Policies) => Handler>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Struct } = require("google-protobuf/google/protobuf/struct_pb") as { Struct: { fromJavaScript(value: unknown): unknown } };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc = require("@pulumi/pulumi/runtime/rpc") as { specialSigKey: string; specialSecretSig: string; unknownValue: string };

const policies = policyModules.map((module) => module.policy);
const secret = (value: unknown) => ({ [rpc.specialSigKey]: rpc.specialSecretSig, value });
/** analyzer.proto's EnforcementLevel enum. */
const levels = ["advisory", "mandatory", "disabled", "remediate"];

function invoke<T>(handler: Handler, request: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
        void handler({ request }, (error, response) => (error ? reject(error) : resolve(response as T)));
    });
}

function options(): analyzer.AnalyzerResourceOptions {
    const result = new analyzer.AnalyzerResourceOptions();
    result.setCustomtimeouts(new analyzer.AnalyzerResourceOptions.CustomTimeouts());
    return result;
}

function providerOf(urn: string): analyzer.AnalyzerProviderResource {
    const provider = new analyzer.AnalyzerProviderResource();
    provider.setType("pulumi:providers:kubernetes");
    provider.setUrn(urn);
    provider.setName(urn.split("::").pop() ?? "");
    provider.setProperties(Struct.fromJavaScript({}) as never);
    return provider;
}

function analyzeRequest(record: PlainResource, wire: Record<string, unknown> = record.props): analyzer.AnalyzeRequest {
    const request = new analyzer.AnalyzeRequest();
    request.setType(record.type);
    request.setName(record.name);
    request.setUrn(record.urn);
    request.setProperties(Struct.fromJavaScript(wire) as never);
    request.setOptions(options());
    if (record.provider) request.setProvider(providerOf(record.provider));
    return request;
}

function diagnosticsOf(response: analyzer.AnalyzeResponse): { policy: string; level: string; urn: string; message: string }[] {
    return response.getDiagnosticsList().map((diagnostic) => ({
        policy: diagnostic.getPolicyname(),
        level: levels[diagnostic.getEnforcementlevel()],
        urn: diagnostic.getUrn(),
        // The SDK puts the policy's description before the message.
        message: diagnostic.getMessage().split("\n").slice(1).join("\n"),
    }));
}

async function analyze(record: PlainResource, wire?: Record<string, unknown>) {
    const handler = server.makeAnalyzeRpcFun(packName, "0.1.0", "mandatory", policies);
    return diagnosticsOf(await invoke<analyzer.AnalyzeResponse>(handler, analyzeRequest(record, wire)));
}

async function analyzeStack(records: PlainResource[]) {
    const request = new analyzer.AnalyzeStackRequest();
    request.setResourcesList(
        records.map((record) => {
            const item = new analyzer.AnalyzerResource();
            item.setType(record.type);
            item.setName(record.name);
            item.setUrn(record.urn);
            item.setProperties(Struct.fromJavaScript(record.props) as never);
            item.setOptions(options());
            if (record.provider) item.setProvider(providerOf(record.provider));
            return item;
        }),
    );
    const handler = server.makeAnalyzeStackRpcFun(packName, "0.1.0", "mandatory", policies);
    return diagnosticsOf(await invoke<analyzer.AnalyzeResponse>(handler, request));
}

describe("the pack under @pulumi/policy's own Analyze, AnalyzeStack and Remediate handlers", () => {
    const release = spireRelease(domains[0]);

    it("passes a compliant resource and stack", async () => {
        expect(await analyze(release)).toEqual([]);
        expect(await analyzeStack(meshStack())).toEqual([]);
    });

    it("reports a resource's violations with policy name and enforcement level (the engine adds the URN)", async () => {
        const broken = { ...mutate(release, ["version"], "^0.30"), provider: defaultProviderUrn };
        expect(await analyze(broken)).toEqual([
            { policy: "helm-charts-pinned", level: "mandatory", urn: "", message: expect.stringContaining('version "^0.30" is not one exact release') },
            { policy: "kubernetes-explicit-provider", level: "mandatory", urn: "", message: expect.stringContaining("uses the default Kubernetes provider") },
        ]);
    });

    it("skips what a preview cannot know yet instead of failing the policy", async () => {
        expect(await analyze(mutate(release, ["version"], rpc.unknownValue))).toEqual([]);
        const unknownBundle = mutate(meshStack()[2], ["spec", "trustDomainBundle"], rpc.unknownValue);
        const stack = meshStack().map((record) => (record.urn === unknownBundle.urn ? unknownBundle : record));
        expect(await analyzeStack(stack)).toEqual([]);
    });

    it("reports stack violations on the resource to change", async () => {
        const stack = without(meshStack(), meshWidePeerAuthentication(domains[1]).urn);
        expect(await analyzeStack(stack)).toEqual([
            { policy: "istio-strict-mtls", level: "mandatory", urn: providerUrn("cluster-2"), message: expect.stringContaining("no mesh-wide STRICT PeerAuthentication") },
        ]);
    });

    it("remediates a plain kubeconfig into a secret and leaves secret ones alone", async () => {
        const kubeconfig = "apiVersion: v1\nkind: Config\nclusters: []\n";
        const provider = resource("pulumi:providers:kubernetes", "cluster-1", {});
        const handler = server.makeRemediateRpcFun(packName, "0.1.0", "mandatory", policies);
        const plain = await invoke<analyzer.RemediateResponse>(handler, analyzeRequest(provider, { kubeconfig, clusterIdentifier: "kind-cluster-1" }));
        expect(plain.getRemediationsList().map((remediation) => [remediation.getPolicyname(), remediation.getProperties()?.toJavaScript()])).toEqual([
            ["sensitive-values-secret", { kubeconfig: secret(kubeconfig), clusterIdentifier: "kind-cluster-1" }],
        ]);
        const already = await invoke<analyzer.RemediateResponse>(handler, analyzeRequest(provider, { kubeconfig: secret(kubeconfig) }));
        expect(already.getRemediationsList()).toEqual([]);
    });

    describe("peer credentials", () => {
        const jwt = (sub: string) => `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify({ sub })).toString("base64url")}.c2ln`;
        const reader = tokenKubeconfig({ name: "cluster-1", server: "https://10.0.0.1", caCertificateBase64: "Y2E=", token: jwt("system:serviceaccount:istio-system:peer-reader-foo.com") });
        const admin = reader.replace(/token: .*/, "client-certificate-data: Y2VydA==\n      client-key-data: a2V5");
        const root = (federationCredentials: unknown) => resource(rootStackType, "spire-istio-mesh-test", { federationCredentials });

        it("AnalyzeStack reads the root stack's outputs and refuses an admin kubeconfig there, secret or not", async () => {
            expect(admin).toContain("client-key-data");
            for (const entry of [admin, secret(admin)]) {
                expect(await analyzeStack([root({ "cluster-1": { "foo.com": entry } })])).toEqual([
                    { policy: "federation-credentials-reader-only", level: "mandatory", urn: root({}).urn, message: expect.stringContaining('"client-certificate-data", "client-key-data"') },
                ]);
            }
        });

        it("AnalyzeStack cannot tell a plain output from a secret one: the SDK unwraps secrets", async () => {
            expect(await analyzeStack([root({ "cluster-1": { "foo.com": secret(reader) } })])).toEqual([]);
            expect(await analyzeStack([root({ "cluster-1": { "foo.com": reader } })])).toEqual([]);
            expect(await analyzeStack([root(rpc.unknownValue)])).toEqual([]);
        });

        it("Analyze refuses a remote secret that hands a peer's istiod an admin kubeconfig", async () => {
            const remoteSecret = resource(
                "kubernetes:core/v1:Secret",
                "cluster-2-istio-remote-secret-cluster-1",
                { apiVersion: "v1", kind: "Secret", metadata: { name: "istio-remote-secret-cluster-1", labels: { "istio/multiCluster": "true" } }, stringData: secret({ "cluster-1": reader }) },
                { provider: providerUrn("cluster-2") },
            );
            expect(await analyze(remoteSecret)).toEqual([]);
            expect(await analyze(remoteSecret, { ...remoteSecret.props, stringData: secret({ "cluster-1": admin }) })).toEqual([
                { policy: "istio-remote-secret-reader-only", level: "mandatory", urn: "", message: expect.stringContaining("at stringData.cluster-1 user cluster-1 has") },
            ]);
        });
    });
});
