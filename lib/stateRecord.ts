import * as pulumi from "@pulumi/pulumi";

/**
 * Values the stack's state remembers between runs, read before anything else is declared. A
 * `pulumi:index:Stash` answers with the value it was first created with (the engine's builtin
 * provider copies `input` to `output` on create and keeps the old `output` on update: pulumi
 * v3.248.0 `pkg/resource/deploy/builtins.go`, Create and Update of `stashType`), in a preview as in
 * an update, so the program can compare this run's config with what was deployed.
 */

/**
 * The value of an Output once it settles, or undefined when it is not known (a preview may leave
 * a value unknown; `apply` would then never run, and awaiting it would hang the program).
 */
export async function settledValue<T>(output: pulumi.Output<T>): Promise<T | undefined> {
    const known = await (output as unknown as { isKnown: Promise<boolean> }).isKnown;
    if (!known) return undefined;
    return new Promise<T>((resolve) => {
        output.apply((value) => {
            resolve(value);
            return value;
        });
    });
}

/**
 * What a Stash recorded when first created, given `current` as this run's value: `current` itself
 * when the state held no such record.
 */
export function recorded<T>(name: string, current: T, opts: pulumi.CustomResourceOptions = {}): Promise<T | undefined> {
    const stash = new pulumi.Stash(name, { input: current }, opts);
    return settledValue(stash.output as pulumi.Output<T>);
}
