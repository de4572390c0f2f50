import * as pulumi from "@pulumi/pulumi";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { stringify } from "yaml";
import { certificateRequestSubject, createCertificateRequest, issueCertificate } from "./certificates";

type State = Record<string, unknown>;

/** The Pulumi wire format's marker for a value not known until the update. */
const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

// The SDK's marker of a serialized secret value (what `pulumi.secret` looks like on the wire).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc = require("@pulumi/pulumi/runtime/rpc") as { specialSigKey: string; specialSecretSig: string };
const secretSignatureKey = rpc.specialSigKey;
const secretSignature = rpc.specialSecretSig;

/** Hands out distinct addresses per name, so wiring tests can tell clusters apart. */
class AddressBook {
    private readonly assigned = new Map<string, string>();
    constructor(private readonly prefix: string, private readonly first: number) {}

    addressOf(name: string): string {
        let address = this.assigned.get(name);
        if (!address) {
            address = `${this.prefix}${this.first + this.assigned.size}`;
            this.assigned.set(name, address);
        }
        return address;
    }
}

function base64(text: string): string {
    return Buffer.from(text, "utf8").toString("base64");
}

/** A private key as `@pulumi/tls` returns it: SEC1 for EC, PKCS#1 for RSA, plus PKCS#8. */
function tlsPrivateKey(inputs: State): State {
    const { privateKey, publicKey } =
        inputs.algorithm === "RSA"
            ? generateKeyPairSync("rsa", { modulusLength: Number(inputs.rsaBits ?? 2048) })
            : generateKeyPairSync("ec", { namedCurve: inputs.ecdsaCurve === "P384" ? "P-384" : "P-256" });
    return {
        ...inputs,
        privateKeyPem: privateKey.export({ format: "pem", type: inputs.algorithm === "RSA" ? "pkcs1" : "sec1" }).toString(),
        privateKeyPemPkcs8: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
        publicKeyPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
    };
}

/**
 * Inputs with Pulumi's secret envelopes removed. Mocks receive a secret input (such as a
 * PrivateKey's `privateKeyPem` feeding a certificate) still wrapped; reading it needs the value,
 * while the state handed back keeps the envelope so the output stays secret.
 */
function revealSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(revealSecrets);
    if (value === null || typeof value !== "object") return value;
    const record = value as Record<string, unknown>;
    if (record[secretSignatureKey] === secretSignature) return revealSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, revealSecrets(item)]));
}

async function tlsSelfSignedCert(state: State): Promise<State> {
    const inputs = revealSecrets(state) as State;
    const subject = (inputs.subject ?? {}) as Record<string, string | undefined>;
    const parts = [`CN=${subject.commonName ?? "unnamed"}`];
    if (subject.organization) parts.push(`O=${subject.organization}`);
    // In a preview the key is not known yet; any key serves to shape outputs that are then unknown.
    const keyPem =
        typeof inputs.privateKeyPem !== "string" || !inputs.privateKeyPem.includes("PRIVATE KEY")
            ? generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString()
            : createPrivateKey(String(inputs.privateKeyPem)).export({ format: "pem", type: "pkcs8" }).toString();
    const certPem = await issueCertificate({
        subject: parts.join(","),
        subjectKeyPem: keyPem,
        isCa: inputs.isCaCertificate === true,
        validityHours: Number(inputs.validityPeriodHours ?? 24),
        dnsNames: (inputs.dnsNames as string[] | undefined) ?? [],
        uris: (inputs.uris as string[] | undefined) ?? [],
    });
    return { ...state, certPem };
}

/** `tls.CertRequest`: a real PKCS#10 request with the subject's common name (and organization). */
async function tlsCertRequest(state: State): Promise<State> {
    const inputs = revealSecrets(state) as State;
    const subject = (inputs.subject ?? {}) as Record<string, string | undefined>;
    const parts = [`CN=${subject.commonName ?? "unnamed"}`];
    if (subject.organization) parts.push(`O=${subject.organization}`);
    const keyPem = String(inputs.privateKeyPem ?? "");
    if (!keyPem.includes("PRIVATE KEY")) return state;
    return { ...state, certRequestPem: await createCertificateRequest(parts.join(","), keyPem) };
}

/** `tls.LocallySignedCert`: the request's subject and key, signed by the given CA certificate and key. */
async function tlsLocallySignedCert(state: State): Promise<State> {
    const inputs = revealSecrets(state) as State;
    const requestPem = String(inputs.certRequestPem ?? "");
    const caKeyPem = String(inputs.caPrivateKeyPem ?? "");
    const caCertPem = String(inputs.caCertPem ?? "");
    if (!requestPem.includes("CERTIFICATE REQUEST") || !caKeyPem.includes("PRIVATE KEY") || !caCertPem.includes("CERTIFICATE")) return state;
    const request = certificateRequestSubject(requestPem);
    const certPem = await issueCertificate({
        subject: request.subject,
        subjectKeyPem: request.publicKeyPem,
        issuer: { certificatePem: caCertPem, privateKeyPem: caKeyPem },
        isCa: inputs.isCaCertificate === true,
        ...(typeof inputs.maxPathLength === "number" ? { pathLength: inputs.maxPathLength } : {}),
        validityHours: Number(inputs.validityPeriodHours ?? 24),
    });
    return { ...state, certPem };
}

/** A throwaway CA per cluster standing in for its API server CA, so tests can tell them apart. */
const clusterCas = new Map<string, Promise<string>>();
export function clusterCa(cluster: string): Promise<string> {
    let pem = clusterCas.get(cluster);
    if (!pem) {
        const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
        pem = issueCertificate({
            subject: `CN=kubernetes,O=${cluster}`,
            subjectKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
            isCa: true,
            validityHours: 24,
        });
        clusterCas.set(cluster, pem);
    }
    return pem;
}

/** The cluster a Kubernetes resource lives in: its provider's name (`urn:...::<cluster>::<id>`). */
function clusterOfProvider(providerReference: string | undefined): string {
    const urn = (providerReference ?? "").split("::").slice(0, -1);
    return urn[urn.length - 1] ?? "unknown";
}

function kindKubeconfig(clusterName: string, port: number): string {
    return stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: `kind-${clusterName}`, cluster: { server: `https://127.0.0.1:${port}`, "certificate-authority-data": "LS0t" } }],
        users: [{ name: `kind-${clusterName}`, user: { "client-certificate-data": "LS0t", "client-key-data": "LS0t" } }],
        contexts: [{ name: `kind-${clusterName}`, context: { cluster: `kind-${clusterName}`, user: `kind-${clusterName}` } }],
        "current-context": `kind-${clusterName}`,
    });
}

/**
 * Mocks that answer like the real providers wherever the program reads an output: real keys and
 * certificates for TLS resources, endpoints and CAs for clusters, addresses for LoadBalancer
 * Services, tokens for service-account token Secrets, and kind's kubeconfig and node address.
 */
/**
 * The state of an earlier deployment that a run continues from, where the program reads it back:
 * a Stash's recorded `output` and the replacement trigger it was recorded under.
 */
export interface PriorStash {
    output: unknown;
    /** The input the last update gave it; undefined: the same as `output`. */
    input?: unknown;
    /** Undefined: recorded without a trigger (which the engine never treats as changed). */
    replacementTrigger?: unknown;
}

/** Another stack's outputs as the engine hands them to a reference: values, and which are secret. */
export interface PeerStackState {
    outputs: Record<string, unknown>;
    secretOutputNames: string[];
}

/** What the mocks need to know of the run: the prior stashes and the trigger each registration sent. */
export interface MockContext {
    /** Other stacks on the backend, by `org/project/stack`; any other name is an unknown stack. */
    peerStacks?: Record<string, PeerStackState>;
    priorStashes?: Record<string, PriorStash>;
    /** The replacement trigger a resource (by name) was registered with. */
    replacementTriggerOf?: (name: string) => unknown;
    /** The `replaceOnChanges` a resource (by name) was registered with. */
    replaceOnChangesOf?: (name: string) => string[];
}

export function realisticMocks(preview = false, context: MockContext = {}): pulumi.runtime.Mocks {
    const mocks = realisticUpdateMocks(context);
    if (!preview) return mocks;
    return {
        ...mocks,
        // In a preview of a new stack the engine knows a new resource's inputs and nothing it
        // computes: every output the provider would fill in is unknown, and so is the ID, except
        // where the provider returns one in a preview: the command provider makes a new command's
        // ID before it looks at the preview flag (pulumi-command v1.2.1
        // provider/pkg/provider/local/commandController.go:42-50), and the engine hands that ID to
        // the program (pulumi v3.248.0 pkg/resource/deploy/step.go:414-431), while the outputs it
        // computes stay unknown (pulumi-go-provider v1.3.0 infer/resource.go:560-563).
        async newResource(args: pulumi.runtime.MockResourceArgs): Promise<{ id: string | undefined; state: State }> {
            const computed = await mocks.newResource(args);
            // The engine's built-in Stash answers a preview with the value it will keep.
            if (args.type === stashType) return { id: undefined, state: computed.state };
            const inputs = (args.inputs ?? {}) as State;
            const state: State = {};
            for (const [key, value] of Object.entries(computed.state)) {
                state[key] = JSON.stringify(value) === JSON.stringify(inputs[key]) ? value : unknownValue;
            }
            return { id: args.type === "command:local:Command" ? computed.id : undefined, state };
        },
    };
}

const stashType = "pulumi:index:Stash";

/**
 * The engine's Stash: `output` is the first value it was given, kept until the Stash is replaced:
 * when its replacement trigger changes (a trigger absent on either side never counts as changed),
 * or when `replaceOnChanges` names `input` and the input differs from the last one (the builtin
 * provider reports `input` as the changed key). Pulumi v3.248.0 `pkg/resource/deploy`:
 * `shouldTriggerReplace` and `applyReplaceOnChanges` in step_generator.go, Diff/Create/Update of
 * the Stash in builtins.go.
 */
function stashState(args: pulumi.runtime.MockResourceArgs, context: MockContext): State {
    const input = (args.inputs as State).input;
    const prior = context.priorStashes?.[args.name];
    if (prior === undefined) return { input, output: input };
    const trigger = context.replacementTriggerOf?.(args.name);
    const triggered = prior.replacementTrigger !== undefined && trigger !== undefined && JSON.stringify(prior.replacementTrigger) !== JSON.stringify(trigger);
    const priorInput = "input" in prior ? prior.input : prior.output;
    const inputReplaces = (context.replaceOnChangesOf?.(args.name) ?? []).includes("input") && JSON.stringify(priorInput) !== JSON.stringify(input);
    return { input, output: triggered || inputReplaces ? input : prior.output };
}

function realisticUpdateMocks(context: MockContext): pulumi.runtime.Mocks {
    const loadBalancers = new AddressBook("203.0.113.", 10);
    const gkeEndpoints = new AddressBook("198.51.100.", 10);
    const kindNodes = new AddressBook("172.18.0.", 2);
    const apiPorts = new AddressBook("", 40000);

    return {
        async newResource(args: pulumi.runtime.MockResourceArgs): Promise<{ id: string; state: State }> {
            const inputs = (args.inputs ?? {}) as State;
            const id = `${args.name}-id`;
            switch (args.type) {
                case "pulumi:pulumi:StackReference": {
                    // The engine's builtin read: the named stack's outputs, or the step fails.
                    const name = String(args.id ?? inputs.name);
                    const peer = context.peerStacks?.[name];
                    if (!peer) throw new Error(`unknown stack "${name}"`);
                    return { id: name, state: { name, outputs: peer.outputs, secretOutputNames: peer.secretOutputNames } };
                }
                case stashType:
                    return { id, state: stashState(args, context) };
                case "tls:index/privateKey:PrivateKey":
                    return { id, state: tlsPrivateKey(inputs) };
                case "tls:index/selfSignedCert:SelfSignedCert":
                    return { id, state: await tlsSelfSignedCert(inputs) };
                case "tls:index/certRequest:CertRequest":
                    return { id, state: await tlsCertRequest(inputs) };
                case "tls:index/locallySignedCert:LocallySignedCert":
                    return { id, state: await tlsLocallySignedCert(inputs) };
                case "gcp:serviceaccount/account:Account": {
                    const email = `${inputs.accountId}@${inputs.project}.iam.gserviceaccount.com`;
                    return { id, state: { ...inputs, email, member: `serviceAccount:${email}` } };
                }
                case "gcp:container/cluster:Cluster":
                    return {
                        id: `projects/${inputs.project}/locations/${inputs.location}/clusters/${inputs.name}`,
                        state: {
                            ...inputs,
                            endpoint: gkeEndpoints.addressOf(String(inputs.name)),
                            masterAuth: { ...(inputs.masterAuth as State), clusterCaCertificate: base64(await clusterCa(String(inputs.name))) },
                        },
                    };
                case "gcp:container/nodePool:NodePool":
                    return { id, state: { ...inputs, name: `${args.name}-pool` } };
                case "kubernetes:core/v1:Service": {
                    if (args.id && inputs.spec === undefined) {
                        // A read (`Service.get`) of a Service some chart created, e.g. an Istio
                        // gateway's: answered as that chart's default type, a LoadBalancer.
                        const [namespace, name] = args.id.includes("/") ? args.id.split("/") : ["default", args.id];
                        return {
                            id: args.id,
                            state: {
                                metadata: { name, namespace },
                                spec: { type: "LoadBalancer", clusterIP: "10.96.0.11" },
                                // Keyed by cluster and Service, so reading the wrong Service shows.
                                status: {
                                    loadBalancer: { ingress: [{ ip: loadBalancers.addressOf(`${clusterOfProvider(args.provider)}/${args.id}`) }] },
                                },
                            },
                        };
                    }
                    const spec = (inputs.spec ?? {}) as State;
                    const status =
                        spec.type === "LoadBalancer" ? { loadBalancer: { ingress: [{ ip: loadBalancers.addressOf(args.name) }] } } : {};
                    return { id, state: { ...inputs, spec: { ...spec, clusterIP: "10.96.0.10" }, status } };
                }
                case "kubernetes:core/v1:Secret": {
                    if (inputs.type !== "kubernetes.io/service-account-token") return { id, state: inputs };
                    const metadata = (inputs.metadata ?? {}) as { namespace?: string; annotations?: Record<string, string> };
                    // The claims kube-controller-manager puts in a legacy service-account token, so
                    // that checks on the subject see what a cluster would issue; `mock/resource`
                    // (mock only) names the Secret resource, so tests can tell clusters' tokens apart.
                    const claims = {
                        iss: "kubernetes/serviceaccount",
                        sub: `system:serviceaccount:${metadata.namespace ?? "default"}:${metadata.annotations?.["kubernetes.io/service-account.name"] ?? "default"}`,
                        "mock/resource": args.name,
                    };
                    // JWT segments are base64url without padding (RFC 7515), as the controller writes them.
                    const token = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.signature`;
                    return {
                        id,
                        state: { ...inputs, data: { token: base64(token), "ca.crt": base64(await clusterCa(clusterOfProvider(args.provider))), namespace: base64("istio-system") } },
                    };
                }
                case "kubernetes:helm.sh/v3:Release":
                    return {
                        id,
                        state: {
                            ...inputs,
                            status: { name: inputs.name ?? args.name, namespace: inputs.namespace, status: "deployed", version: inputs.version },
                        },
                    };
                default:
                    return { id, state: inputs };
            }
        },
        call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
            if (args.token === "pulumi:pulumi:readStackOutputs") {
                const name = String((args.inputs as State).name);
                const peer = context.peerStacks?.[name];
                // The shape of the engine's gRPC error, which the SDK turns into an Error of its details.
                if (!peer) throw { code: 2, details: `invocation of pulumi:pulumi:readStackOutputs returned an error: unknown stack "${name}"` };
                return { name, outputs: peer.outputs, secretOutputNames: peer.secretOutputNames };
            }
            if (args.token === "command:local:run") {
                const commandText = String((args.inputs as State).command ?? "");
                const kubeconfigFor = /kind get kubeconfig --name '([^']+)'/.exec(commandText);
                if (kubeconfigFor) {
                    const name = kubeconfigFor[1];
                    return { stdout: kindKubeconfig(name, Number(apiPorts.addressOf(name))), stderr: "" };
                }
                const inspected = /docker inspect .* '([^']+)-control-plane'/.exec(commandText);
                if (inspected) return { stdout: `${kindNodes.addressOf(inspected[1])}\n`, stderr: "" };
                throw new Error(`mock: no answer for local command ${commandText}`);
            }
            return args.inputs as Record<string, unknown>;
        },
    };
}
