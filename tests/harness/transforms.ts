/**
 * Runs a declared resource's `transforms` the way the engine does for the children a remote
 * component's provider registers: pulumi v3.248.0 keeps the transforms of the program's remote
 * registration and runs them on every resource registered under that component
 * (pkg/resource/deploy/source_eval.go:2179-2217, 2734), through the program's callback server
 * (wrapTransformCallback, source_eval.go:1346-1415). Under mocks nothing registers those children,
 * so a test hands in the child as the plugin would register it and sees what the engine would get.
 */
import * as grpc from "@grpc/grpc-js";
import type { DeclaredResource } from "./program";

// The SDK's generated protobuf modules: what the engine and the program exchange.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const resourcePb = require("@pulumi/pulumi/proto/resource_pb");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const callbackPb = require("@pulumi/pulumi/proto/callback_pb");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const callbackGrpc = require("@pulumi/pulumi/proto/callback_grpc_pb");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const structPb = require("google-protobuf/google/protobuf/struct_pb");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc = require("@pulumi/pulumi/runtime/rpc") as { specialSigKey: string; specialSecretSig: string };

/** A secret value as it travels between the engine and the program. */
export function wireSecret(value: unknown): Record<string, unknown> {
    return { [rpc.specialSigKey]: rpc.specialSecretSig, value };
}

/** A resource a remote component's provider registers under it, as the engine sees it. */
export interface ChildRegistration {
    type: string;
    name: string;
    custom: boolean;
    /** URN of the component. */
    parent: string;
    props: Record<string, unknown>;
    /** Provider reference (`URN::ID`) the child resolved to. */
    provider: string;
    /** URN of the resource it is deleted with (inherited from the component). */
    deletedWith?: string;
    aliases?: string[];
}

/** What the engine registers after the transforms ran. */
export interface TransformedChild {
    props: Record<string, unknown>;
    provider: string;
    deletedWith: string;
    /** Aliases given as URNs. */
    aliasUrns: string[];
    /** Aliases given as specs (name, type, parent URN). */
    aliasSpecs: { name: string; type: string; parentUrn: string }[];
}

async function invokeCallback(target: string, token: string, request: Uint8Array): Promise<Uint8Array> {
    const client = new callbackGrpc.CallbacksClient(target, grpc.credentials.createInsecure());
    try {
        const invoke = new callbackPb.CallbackInvokeRequest();
        invoke.setToken(token);
        invoke.setRequest(request);
        return await new Promise<Uint8Array>((resolve, reject) => {
            client.invoke(invoke, (error: Error | null, response: { getResponse_asU8(): Uint8Array }) => {
                if (error) reject(error);
                else resolve(response.getResponse_asU8());
            });
        });
    } finally {
        client.close();
    }
}

/** Runs `owner`'s transforms, in order, on `child`, as the engine would. */
export async function runTransformsOn(owner: DeclaredResource, child: ChildRegistration): Promise<TransformedChild> {
    let props = structPb.Struct.fromJavaScript(child.props);
    let options = new resourcePb.TransformResourceOptions();
    options.setProvider(child.provider);
    options.setDeletedWith(child.deletedWith ?? "");
    options.setAliasesList(
        (child.aliases ?? []).map((urn) => {
            const alias = new resourcePb.Alias();
            alias.setUrn(urn);
            return alias;
        }),
    );
    for (const callback of owner.transforms) {
        const request = new resourcePb.TransformRequest();
        request.setType(child.type);
        request.setName(child.name);
        request.setCustom(child.custom);
        request.setParent(child.parent);
        request.setProperties(props);
        request.setOptions(options);
        const response = resourcePb.TransformResponse.deserializeBinary(await invokeCallback(callback.target, callback.token, request.serializeBinary()));
        props = response.getProperties() ?? props;
        options = response.getOptions() ?? options;
    }
    const aliases: { hasUrn(): boolean; getUrn(): string; getSpec(): { getName(): string; getType(): string; getParenturn(): string } }[] =
        options.getAliasesList();
    return {
        props: props.toJavaScript(),
        provider: options.getProvider(),
        deletedWith: options.getDeletedWith(),
        aliasUrns: aliases.filter((alias) => alias.hasUrn()).map((alias) => alias.getUrn()),
        aliasSpecs: aliases
            .filter((alias) => !alias.hasUrn())
            .map((alias) => ({ name: alias.getSpec().getName(), type: alias.getSpec().getType(), parentUrn: alias.getSpec().getParenturn() })),
    };
}
