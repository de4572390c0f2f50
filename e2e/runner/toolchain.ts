/**
 * The binaries a run needs, and building those the cache lacks, so that `npm run e2e:local` is
 * one command from a clean clone (e2e/build-toolchain.sh builds them; e2e/README.md has the times).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { bin, logs, root } from "./paths";
import { check, progress } from "./phases";
import { logged } from "./processes";

/** Every binary a run uses, as `[family, name]`: a new process of the test bed adds its binary here. */
export const toolchainBinaries: [family: string, name: string][] = [
    ["pulumi", "pulumi"],
    ["language-nodejs", "pulumi-language-nodejs"],
    ["provider-kubernetes", "pulumi-resource-kubernetes"],
    ["provider-tls", "pulumi-resource-tls"],
    ["provider-command", "pulumi-resource-command"],
    ["provider-kubernetes-cert-manager", "pulumi-resource-kubernetes-cert-manager"],
    ["kube", "kube-apiserver"],
    ["kube", "kube-controller-manager"],
    ["kube", "kube-scheduler"],
    ["kube", "kubectl"],
    ["etcd", "etcd"],
    ["kwok", "kwok"],
    ["cert-manager", "cert-manager-controller"],
    ["spire", "spire-server"],
    ["spire", "spire-agent"],
    ["spire-controller-manager", "spire-controller-manager"],
    ["istio", "pilot-discovery"],
];

/**
 * Builds the families of the binaries the cache lacks (cached afterwards), then fails naming any
 * binary still missing.
 * @param evidence the preflight phase's: what was built and how long it took
 */
export async function ensureToolchain(evidence: string[]): Promise<void> {
    const missing = () => toolchainBinaries.filter(([family, name]) => !fs.existsSync(bin(family, name)));
    const log = path.join(logs, "toolchain.log");
    if (missing().length > 0) {
        const families = [...new Set(missing().map(([family]) => family))];
        progress("preflight", `building the toolchain (${families.join(" ")}); a first build takes long (e2e/README.md), log: ${log}`);
        const t0 = Date.now();
        // A line on stderr per binary built, so that an hour of building is not an hour of silence.
        let shown = 0;
        const echoBuilt = () => {
            const lines = fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n") : [];
            for (const line of lines.slice(shown, -1)) if (/^(built|FAIL) /.test(line)) progress("preflight", line);
            shown = Math.max(shown, lines.length - 1);
        };
        const echoing = setInterval(echoBuilt, 5000);
        // A failed build is reported below as the binaries still missing, with the log to read.
        await logged("toolchain", "bash", [path.join(root, "e2e/build-toolchain.sh"), ...families])
            .catch(() => undefined)
            .finally(() => {
                clearInterval(echoing);
                echoBuilt();
            });
        const built = families.filter((family) => !missing().some(([f]) => f === family));
        evidence.push(`built ${built.join(" ") || "nothing"} in ${((Date.now() - t0) / 1000).toFixed(0)}s (e2e/build-toolchain.sh)`);
    }
    const absent = missing().map(([family, name]) => bin(family, name));
    check(absent.length === 0, `toolchain incomplete (log: ${log})\nmissing:\n  ${absent.join("\n  ")}`);
}
