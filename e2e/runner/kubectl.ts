/**
 * The checks' way into an API server: the toolchain's kubectl with a cluster's kubeconfig, so that
 * what a check sees is what the API server answers, not what the program meant to declare.
 */
import { bin } from "./paths";
import { run } from "./processes";

/** Where kubectl connects: a cluster (anything with a kubeconfig, such as a `Domain`) or a kubeconfig file's path. */
export type KubeTarget = { kubeconfig: string } | string;

/** A list as `kubectl get -o json` returns it. */
export interface List<T> {
    items: T[];
}

/** The metadata every check reads. */
export interface Meta {
    metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

/**
 * kubectl against one cluster; its stdout.
 * @param target the cluster, or a kubeconfig file (a remote secret's, say)
 * @param args kubectl's arguments after `--kubeconfig`
 */
export async function kubectl(target: KubeTarget, ...args: string[]): Promise<string> {
    const kubeconfig = typeof target === "string" ? target : target.kubeconfig;
    const { stdout } = await run(bin("kube", "kubectl"), ["--kubeconfig", kubeconfig, ...args], { maxBuffer: 256 << 20 });
    return stdout;
}

/**
 * kubectl with `-o json`, parsed.
 * @param target the cluster
 * @param args kubectl's arguments, without the output flag
 */
export async function kubectlJson<T>(target: KubeTarget, ...args: string[]): Promise<T> {
    return JSON.parse(await kubectl(target, ...args, "-o", "json")) as T;
}
