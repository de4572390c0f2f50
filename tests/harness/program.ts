import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { projectName } from "../../config/keys";
import { PeerStackState, PriorStash, realisticMocks } from "./mocks";
import { flatten, stackFileConfig, StackName } from "./stacks";

// Internal SDK entry points the harness needs: swapping in a recording monitor and waiting for the
// program's RPCs to drain. Both are stable parts of the Node SDK used by its own tests.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings") as {
    setMockOptions(monitor: unknown, project?: string, stack?: string, preview?: boolean, organization?: string): void;
    waitForRPCs(): Promise<void>;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const state = require("@pulumi/pulumi/runtime/state") as { getStore(): object };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc = require("@pulumi/pulumi/runtime/rpc") as { specialSigKey: string; specialSecretSig: string };

/** One resource the program declared, with the options that matter for review. */
export interface DeclaredResource {
    urn: string;
    type: string;
    name: string;
    /** Inputs with secrets unwrapped. */
    inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    /** Dotted paths of inputs that were Pulumi secrets. */
    secretInputPaths: string[];
    /** URN of the explicit or inherited provider ("" when none: the default provider). */
    provider: string;
    /** Providers by package, as a component (remote ones included) passes them to its children. */
    providers: Record<string, string>;
    parent: string;
    dependsOn: string[];
    deletedWith: string;
    additionalSecretOutputs: string[];
    protect: boolean;
    deleteBeforeReplace: boolean;
    /** Input properties whose changes the engine ignores after create. */
    ignoreChanges: string[];
    /** The `replacementTrigger` option as sent (undefined when the resource has none). */
    replacementTrigger: unknown;
    /** Input properties whose change replaces the resource (`replaceOnChanges`). */
    replaceOnChanges: string[];
    /** Aliases given as full URNs (the state entries this resource takes over). */
    aliasUrns: string[];
    /**
     * The `transforms` option as the engine receives it: callbacks on the program's callback
     * server (harness/transforms.ts runs them).
     */
    transforms: { target: string; token: string }[];
    /** The ID the mock provider assigned (set once the registration completes). */
    id: string;
    /** The state the mock provider answered with (set once the registration completes). */
    outputs: Record<string, unknown>;
    custom: boolean;
    remote: boolean;
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getProvider(): string;
    getProvidersMap(): { toObject(): [string, string][] };
    getCustom(): boolean;
    getRemote(): boolean;
    getDependenciesList(): string[];
    getDeletedwith(): string;
    getAdditionalsecretoutputsList(): string[];
    getProtect(): boolean | undefined;
    getDeletebeforereplace(): boolean;
    getIgnorechangesList(): string[];
    getReplacementTrigger(): { toJavaScript(): unknown } | undefined;
    getReplaceonchangesList(): string[];
    getAliasesList(): { getUrn(): string }[];
    getAliasurnsList(): string[];
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
    getTransformsList(): { getTarget(): string; getToken(): string }[];
}

function unwrapSecrets(value: unknown, path: string, secretPaths: string[]): unknown {
    if (Array.isArray(value)) return value.map((item, index) => unwrapSecrets(item, `${path}[${index}]`, secretPaths));
    if (value !== null && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[rpc.specialSigKey] === rpc.specialSecretSig) {
            secretPaths.push(path);
            return unwrapSecrets(record.value, path, []);
        }
        return Object.fromEntries(
            Object.entries(record).map(([key, item]) => [key, unwrapSecrets(item, path ? `${path}.${key}` : key, secretPaths)]),
        );
    }
    return value;
}

/** The SDK's mock monitor, recording every registration with its options. */
class RecordingMonitor extends MockMonitor {
    readonly declared: DeclaredResource[] = [];

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async registerResource(req: RegisterRequest, callback: (err: any, response: any) => void): Promise<void> {
        const secretInputPaths: string[] = [];
        const inputs = unwrapSecrets(req.getObject()?.toJavaScript() ?? {}, "", secretInputPaths) as Record<string, unknown>;
        const urn = (this as unknown as { newUrn(parent: string, type: string, name: string): string }).newUrn(
            req.getParent(),
            req.getType(),
            req.getName(),
        );
        this.declared.push({
            urn,
            type: req.getType(),
            name: req.getName(),
            inputs,
            secretInputPaths,
            provider: req.getProvider().split("::").slice(0, -1).join("::") || req.getProvider(),
            providers: Object.fromEntries(
                req.getProvidersMap().toObject().map(([pkg, ref]) => [pkg, ref.split("::").slice(0, -1).join("::") || ref]),
            ),
            parent: req.getParent(),
            dependsOn: req.getDependenciesList(),
            deletedWith: req.getDeletedwith(),
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            protect: req.getProtect() ?? false,
            deleteBeforeReplace: req.getDeletebeforereplace(),
            ignoreChanges: req.getIgnorechangesList(),
            replacementTrigger: req.getReplacementTrigger()?.toJavaScript(),
            replaceOnChanges: req.getReplaceonchangesList(),
            aliasUrns: [...req.getAliasesList().map((alias) => alias.getUrn()), ...req.getAliasurnsList()].filter((urn) => urn !== ""),
            transforms: req.getTransformsList().map((callback) => ({ target: callback.getTarget(), token: callback.getToken() })),
            id: "",
            outputs: {},
            custom: req.getCustom(),
            remote: req.getRemote(),
        });
        const record = this.declared[this.declared.length - 1];
        return super.registerResource(req, (err, response: { getId(): string; getObject(): { toJavaScript(): Record<string, unknown> } | undefined } | undefined) => {
            if (response) {
                record.id = response.getId();
                record.outputs = response.getObject()?.toJavaScript() ?? {};
            }
            callback(err, response);
        });
    }

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async invoke(req: InvokeRequest, callback: (err: any, response: any) => void): Promise<void> {
        this.invoked.push({ token: req.getTok(), args: (req.getArgs()?.toJavaScript() ?? {}) as Record<string, unknown> });
        return super.invoke(req, callback);
    }

    /** Every invoke (data source call) the program made, with its arguments. */
    readonly invoked: { token: string; args: Record<string, unknown> }[] = [];

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async readResource(req: ReadRequest, callback: (err: any, response: any) => void): Promise<void> {
        const read: ReadRecord = { type: req.getType(), name: req.getName(), id: req.getId(), provider: providerUrn(req.getProvider()), state: {} };
        this.read.push(read);
        return super.readResource(req, (err, response: { getProperties(): { toJavaScript(): Record<string, unknown> } } | undefined) => {
            if (response) read.state = response.getProperties().toJavaScript();
            callback(err, response);
        });
    }

    /** Every existing resource the program read (`Resource.get`), with the state it got back. */
    readonly read: ReadRecord[] = [];
}

/** One `Resource.get` of the program. */
export interface ReadRecord {
    type: string;
    name: string;
    id: string;
    /** URN of the provider it read through. */
    provider: string;
    state: Record<string, unknown>;
}

interface ReadRequest {
    getType(): string;
    getName(): string;
    getId(): string;
    getProvider(): string;
}

function providerUrn(reference: string): string {
    return reference.split("::").slice(0, -1).join("::") || reference;
}

interface InvokeRequest {
    getTok(): string;
    getArgs(): { toJavaScript(): Record<string, unknown> } | undefined;
}

export interface ProgramRun<T> {
    /** What the program function returned. */
    result: T;
    /** Every resource declared, components and providers included. */
    resources: DeclaredResource[];
    ofType(type: string): DeclaredResource[];
    /** The one resource of that type and name; throws when there is not exactly one. */
    one(type: string, name: string): DeclaredResource;
    byUrn(urn: string): DeclaredResource;
    /** Every invoke the program made (token and arguments as sent). */
    invoked: { token: string; args: Record<string, unknown> }[];
    /** Every existing resource the program read, with what it got back. */
    read: ReadRecord[];
    /** URNs of the resource's ancestors, nearest first. */
    ancestors(resource: DeclaredResource): DeclaredResource[];
}

export interface RunOptions {
    /** Stack whose `Pulumi.<stack>.yaml` supplies config (unless `stackConfig` is given). */
    stack: StackName | string;
    /**
     * The stack's whole `config:` block (namespaced keys), instead of reading `Pulumi.<stack>.yaml`:
     * a stack file from elsewhere, its `secure:` values already replaced by plain ones.
     */
    stackConfig?: Record<string, unknown>;
    /** Namespaced keys of `stackConfig` that are secrets (its `secure:` values). */
    secretKeys?: string[];
    /** Replaces the stack's project config (keys without the project prefix). */
    projectConfig?: Record<string, unknown>;
    /** Secret config keys (without prefix) and their values, e.g. supplied root CA keys. */
    secretConfig?: Record<string, string>;
    /** Preview (outputs of new resources unknown) instead of update. */
    preview?: boolean;
    /** Stashes (by resource name) as an earlier deployment left them in the state. */
    priorStashes?: Record<string, PriorStash>;
    /** Other stacks on the backend (by `org/project/stack`) that stack references may read. */
    peerStacks?: Record<string, PeerStackState>;
}

/**
 * Runs `program` under Pulumi's mock runtime with a stack's config and returns what it declared.
 * The same engine serves the tests and the offline plan.
 */
let running = false;

export async function runProgram<T>(program: () => T | Promise<T>, options: RunOptions): Promise<ProgramRun<T>> {
    // Pulumi's runtime (config, mocks, monitor) is global: two overlapping runs would mix.
    if (running) throw new Error("runProgram: another run is in progress; await it before starting the next");
    running = true;
    try {
        return await runProgramAlone(program, options);
    } finally {
        running = false;
    }
}

async function runProgramAlone<T>(program: () => T | Promise<T>, options: RunOptions): Promise<ProgramRun<T>> {
    const fileConfig = options.stackConfig ?? stackFileConfig(options.stack);
    const config: Record<string, unknown> = options.projectConfig
        ? {
              ...Object.fromEntries(Object.entries(fileConfig).filter(([key]) => !key.startsWith(`${projectName}:`))),
              ...Object.fromEntries(Object.entries(options.projectConfig).map(([key, value]) => [`${projectName}:${key}`, value])),
          }
        : { ...fileConfig };
    const secretKeys: string[] = [...(options.secretKeys ?? [])];
    for (const [key, value] of Object.entries(options.secretConfig ?? {})) {
        config[`${projectName}:${key}`] = value;
        secretKeys.push(`${projectName}:${key}`);
    }
    pulumi.runtime.setAllConfig(flatten(config), secretKeys);
    process.env.PULUMI_CONFIG_SECRET_KEYS = JSON.stringify(secretKeys);

    const preview = options.preview ?? false;
    let monitor: RecordingMonitor | undefined = undefined;
    const mocks = realisticMocks(preview, {
        priorStashes: options.priorStashes,
        peerStacks: options.peerStacks,
        replacementTriggerOf: (name) => [...(monitor?.declared ?? [])].reverse().find((r) => r.name === name)?.replacementTrigger,
        replaceOnChangesOf: (name) => [...(monitor?.declared ?? [])].reverse().find((r) => r.name === name)?.replaceOnChanges ?? [],
    });
    monitor = new RecordingMonitor(mocks);
    // The local file backend's organization: what stack references of that backend name.
    settings.setMockOptions(monitor, projectName, options.stack, preview, "organization");
    // What `pulumi.runtime.setMocks` enables, so options such as deletedWith reach the monitor;
    // and transforms, which setMocks leaves off but the engine the program runs on (3.248.0)
    // supports: the SDK refuses to register a resource with transforms otherwise. They are sent
    // as callbacks on the SDK's callback server, which harness/transforms.ts calls as the engine would.
    Object.assign(state.getStore(), {
        supportsSecrets: true,
        supportsResourceReferences: true,
        supportsOutputValues: false,
        supportsDeletedWith: true,
        supportsAliasSpecs: true,
        supportsTransforms: true,
        supportsParameterization: true,
    });

    // A failed registration surfaces as an unhandled rejection and leaves the RPC queue waiting
    // forever; turn it into this run's failure instead of a test timeout.
    let onRejection: ((reason: unknown) => void) | undefined;
    let rejections = 0;
    const failure = new Promise<never>((_, reject) => {
        onRejection = (reason: unknown) => {
            rejections++;
            reject(reason instanceof Error ? reason : new Error(String(reason)));
        };
        process.on("unhandledRejection", onRejection);
    });
    let result: T;
    try {
        result = await program();
        await Promise.race([
            (async () => {
                await settings.waitForRPCs();
                await resolveDeep(result);
                await settings.waitForRPCs();
            })(),
            failure,
        ]);
    } catch (error) {
        // The rest of a failed run keeps registering (and failing on the same error); let it
        // finish while its rejections are still caught here, so none lands in the next run.
        // Registrations that failed never release the RPC queue, so quiet is the only signal:
        // neither a declaration nor a rejection for a while.
        await untilQuiet(() => monitor.declared.length + rejections);
        throw error;
    } finally {
        if (onRejection) process.off("unhandledRejection", onRejection);
    }

    const resources = monitor.declared;
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    return {
        result,
        resources,
        invoked: monitor.invoked,
        read: monitor.read,
        ofType: (type) => resources.filter((r) => r.type === type),
        one: (type, name) => {
            const found = resources.filter((r) => r.type === type && r.name === name);
            if (found.length !== 1) {
                throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
            }
            return found[0];
        },
        byUrn: (urn) => {
            const found = byUrn.get(urn);
            if (!found) throw new Error(`no resource ${urn}`);
            return found;
        },
        ancestors: (resource) => {
            const chain: DeclaredResource[] = [];
            let parent = byUrn.get(resource.parent);
            while (parent) {
                chain.push(parent);
                parent = byUrn.get(parent.parent);
            }
            return chain;
        },
    };
}

/** Resolves once the monitor has seen no registration for a while (at most a few seconds). */
async function untilQuiet(activity: () => number): Promise<void> {
    // Wall-clock quiet, so a loaded machine (slow crypto in the mocks) needs a generous window.
    const tick = () => new Promise((done) => setTimeout(done, 100));
    let seen = -1;
    for (let waited = 0; waited < 50 && seen !== activity(); waited++) {
        seen = activity();
        for (let i = 0; i < 5; i++) await tick();
    }
}

/** Resolves an Output's value under mocks. */
export function resolve<T>(output: pulumi.Input<T>): Promise<T> {
    return new Promise((done) => pulumi.output(output).apply((value) => done(value as T)));
}

export async function isSecretOutput<T>(output: pulumi.Output<T>): Promise<boolean> {
    return pulumi.isSecret(output);
}

/** Waits for every Output reachable from `value`, so that their registrations have happened. */
async function resolveDeep(value: unknown, seen = new Set<unknown>()): Promise<void> {
    if (value === null || typeof value !== "object" || seen.has(value)) return;
    seen.add(value);
    if (pulumi.Output.isInstance(value)) {
        // An unknown value (a preview) never resolves; there is nothing to wait for.
        if (await isKnown(value)) await resolve(value);
        return;
    }
    if (pulumi.Resource.isInstance(value)) return;
    await Promise.all(Object.values(value as Record<string, unknown>).map((item) => resolveDeep(item, seen)));
}

/** A value with every Output inside it resolved: what `pulumi stack output --json` would show. */
export async function resolvePlain(value: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) return (await isKnown(value)) ? resolvePlain(await resolve(value)) : undefined;
    if (Array.isArray(value)) return Promise.all(value.map(resolvePlain));
    if (value !== null && typeof value === "object" && !pulumi.Resource.isInstance(value)) {
        const entries = await Promise.all(Object.entries(value).map(async ([key, item]) => [key, await resolvePlain(item)] as const));
        return Object.fromEntries(entries);
    }
    return value;
}

/** Whether an Output's value is known (false for values only an update computes, in a preview). */
export function isKnown<T>(output: pulumi.Output<T>): Promise<boolean> {
    return (output as unknown as { isKnown: Promise<boolean> }).isKnown;
}

const cachedRuns = new Map<unknown, Map<string, Promise<ProgramRun<unknown>>>>();

/**
 * `runProgram`, once per program and options within a test file: tests that only read a run
 * share it (a run must not be mutated). Runs are queued, never overlapping.
 */
export function runProgramOnce<T>(program: () => T | Promise<T>, options: RunOptions): Promise<ProgramRun<T>> {
    let byOptions = cachedRuns.get(program);
    if (!byOptions) cachedRuns.set(program, (byOptions = new Map()));
    const key = JSON.stringify(options);
    let run = byOptions.get(key);
    if (!run) {
        run = queue.then(() => runProgram(program, options)) as Promise<ProgramRun<unknown>>;
        queue = run.catch(() => undefined);
        byOptions.set(key, run);
    }
    return run as Promise<ProgramRun<T>>;
}
let queue: Promise<unknown> = Promise.resolve();
