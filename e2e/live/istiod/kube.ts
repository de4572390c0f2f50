/**
 * kubectl against one cluster, as the live istiod phases use it: reads as JSON, applies from
 * text, tokens for a ServiceAccount. Independent of the program's code.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Kube {
    /** Path of the kubectl binary. */
    kubectl: string;
    /** Kubeconfig with which to run it (the cluster's admin one, or a narrower credential). */
    kubeconfig: string;
}

/** kubectl's stdout; a failure carries kubectl's stderr. */
export async function kubectl(kube: Kube, args: string[], input?: string): Promise<string> {
    try {
        if (input === undefined) {
            const { stdout } = await run(kube.kubectl, ["--kubeconfig", kube.kubeconfig, ...args], { maxBuffer: 256 << 20 });
            return stdout;
        }
        return await new Promise<string>((resolve, reject) => {
            const child = execFile(kube.kubectl, ["--kubeconfig", kube.kubeconfig, ...args], { maxBuffer: 256 << 20 }, (error, stdout, stderr) =>
                error ? reject(Object.assign(error, { stderr })) : resolve(stdout),
            );
            child.stdin?.end(input);
        });
    } catch (error) {
        const stderr = (error as { stderr?: string }).stderr?.trim();
        throw new Error(`kubectl ${args.join(" ")}: ${stderr || (error as Error).message}`);
    }
}

export async function kubectlJson<T>(kube: Kube, args: string[]): Promise<T> {
    return JSON.parse(await kubectl(kube, [...args, "-o", "json"])) as T;
}

/** The object, or undefined when the API server says it does not exist. */
export async function getOptional<T>(kube: Kube, args: string[]): Promise<T | undefined> {
    try {
        return await kubectlJson<T>(kube, ["get", ...args]);
    } catch (error) {
        if (/NotFound|not found/.test((error as Error).message)) return undefined;
        throw error;
    }
}

export interface List<T> {
    items: T[];
}

/** The API server URL of the kubeconfig's current context. */
export async function serverOf(kube: Kube): Promise<string> {
    return (await kubectl(kube, ["config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"])).trim();
}

/**
 * A TokenRequest for `serviceAccount`, bound to `pod` when given (as the kubelet's projected
 * tokens are: invalid once the pod is gone).
 */
export async function serviceAccountToken(
    kube: Kube,
    namespace: string,
    serviceAccount: string,
    options: { audience?: string; seconds?: number; pod?: { name: string; uid: string } } = {},
): Promise<string> {
    const args = ["-n", namespace, "create", "token", serviceAccount, `--duration=${options.seconds ?? 7200}s`];
    if (options.audience !== undefined) args.push(`--audience=${options.audience}`);
    if (options.pod !== undefined) args.push("--bound-object-kind=Pod", `--bound-object-name=${options.pod.name}`, `--bound-object-uid=${options.pod.uid}`);
    return (await kubectl(kube, args)).trim();
}

/** A kubeconfig authenticating with `token` at `server`, trusting `caPem`. */
export function tokenKubeconfigText(name: string, server: string, caPem: string, token: string): string {
    const ca = Buffer.from(caPem).toString("base64");
    return [
        "apiVersion: v1",
        "kind: Config",
        `clusters: [{name: ${name}, cluster: {server: "${server}", certificate-authority-data: ${ca}}}]`,
        `users: [{name: ${name}, user: {token: ${token}}}]`,
        `contexts: [{name: ${name}, context: {cluster: ${name}, user: ${name}}}]`,
        `current-context: ${name}`,
        "",
    ].join("\n");
}
