import { isDuration } from "../../config/durations";
import { CheckId, checkIds } from "./report";

export interface VerifyOptions {
    /** Stack whose outputs (and kubeconfigs) describe the mesh. */
    stack?: string;
    /** A saved `pulumi stack output --json [--show-secrets]` document, instead of a stack. */
    outputsFile?: string;
    /** Domain name -> kubeconfig context, overriding the stack's kubeconfigs. */
    contexts: Record<string, string>;
    /** Kubeconfig file for `contexts` (default: $KUBECONFIG or ~/.kube/config). */
    kubeconfigPath?: string;
    checks: CheckId[];
    /** Requests per batch in the traffic checks. */
    requests: number;
    /** Upper bound, per check, for the mesh to converge. */
    timeoutSeconds: number;
    json: boolean;
    /** Expected istiod cacerts lifetime; default: the stack's config, else the project default. */
    istiodCertDuration?: string;
    spireNamespace: string;
    istioNamespace: string;
}

export class UsageError extends Error {}

export const checkDescriptions: Record<CheckId, string> = {
    "load-balancing":
        "From the first domain's sleep pod, N requests to helloworld.helloworld:5000/hello must all succeed and, together, reach every domain's helloworld version (v1 in the first, v2 in the second, ...): traffic crosses the east-west gateways under mTLS between different roots.",
    failover:
        "Scales helloworld-v1 in the first domain to zero, then N requests from the same client must all succeed from remote versions only; restores the original replica count afterwards, whatever happened, and waits for it to be ready.",
    "north-south":
        "From the first domain's sleep pod, N requests to http://<second domain's ingressAddress>/hello (stack output) must all succeed through the helloworld-gateway Gateway and VirtualService.",
    identity:
        "For every sample pod (helloworld and sleep everywhere, Bookinfo in the second domain), reads the proxy's SDS secrets with `pilot-agent request GET config_dump` in its istio-proxy container: the leaf carries exactly spiffe://<td>/ns/<ns>/sa/<sa>; it is issued by SPIRE's intermediate (a CA whose URI SAN is spiffe://<td>, which istiod's own CA lacks); the chain is signed link by link and ends at exactly the domain's root from the stack output trustBundle; and the proxy's ROOTCA trusts every domain's root.",
    federation:
        "In each cluster, a ClusterFederatedTrustDomain exists for every peer trust domain, and `spire-server bundle list -output json` (exec in the SPIRE server pod) holds a bundle for every peer that contains the peer's root from the stack outputs.",
    rotation:
        "In each cluster, istiod's Secret istio-system/cacerts holds a certificate whose lifetime (notAfter - notBefore) equals the configured istiodCertDuration (within 5 minutes), as does the spec.duration of the cert-manager Certificate writing it; and every running istiod has loaded that certificate: the signing-chain and root expiry istiod reports on its monitoring port (`pilot-discovery request GET /metrics` in its discovery container) equal the Secret's. The expected duration comes from --istiod-cert-duration or `pulumi config get` on the stack; if that command fails, the check fails with its error.",
};

export const helpText = `Usage: npm run verify -- (--stack <stack> | --outputs <file>) [options]

Checks a deployed mesh the way the seed demonstrates it by hand, through the Kubernetes API
(exec into pods, no kubectl). Prints one progress line per check on stderr, then a table (or
JSON); exits 0 only when every selected check passes, 1 when any fails, 2 on a usage error.

Where the mesh is described:
  --stack <name>                  read \`pulumi stack output --json --show-secrets\` of the stack
                                  (domains and kubeconfigs) and \`pulumi config get istiodCertDuration\`
  --outputs <file>                a saved \`pulumi stack output --json --show-secrets\` document
  --kubeconfig-context <d>=<ctx>  reach domain <d> through context <ctx> instead of the stack's
                                  kubeconfig (repeatable; required per domain when the outputs
                                  carry no kubeconfigs)
  --kubeconfig <file>             kubeconfig holding those contexts (default: $KUBECONFIG, ~/.kube/config)

Options:
  --checks <a,b,...>              run only these checks (default: all, in the order below)
  --requests <n>                  requests per batch in the traffic checks (default 20)
  --timeout <seconds>             per check, how long to retry while the mesh converges (default 180)
  --istiod-cert-duration <d>      expected cacerts lifetime, e.g. 720h (default: the stack's config;
                                  with --outputs, 1440h)
  --spire-namespace <ns>          namespace of the SPIRE server (default spire-server)
  --istio-namespace <ns>          namespace of istiod and cacerts (default istio-system)
  --json                          print the report as JSON on stdout
  --help                          show this text

Checks:
${checkIds.map((id, index) => `  ${index + 1}. ${id}\n${wrap(checkDescriptions[id], 6, 96)}`).join("\n")}
`;

function wrap(text: string, indent: number, width: number): string {
    const lines: string[] = [];
    let line = "";
    for (const word of text.split(" ")) {
        if (line.length > 0 && indent + line.length + 1 + word.length > width) {
            lines.push(line);
            line = word;
        } else {
            line = line ? `${line} ${word}` : word;
        }
    }
    if (line) lines.push(line);
    return lines.map((l) => " ".repeat(indent) + l).join("\n");
}

function positiveInteger(flag: string, value: string): number {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag} must be a positive integer, got ${JSON.stringify(value)}`);
    return Number(value);
}

/** Parses the command line (arguments after the script); `help` when --help was asked for. */
export function parseArgs(argv: string[]): { help: true } | { help: false; options: VerifyOptions } {
    const options: VerifyOptions = {
        contexts: {},
        checks: [...checkIds],
        requests: 20,
        timeoutSeconds: 180,
        json: false,
        spireNamespace: "spire-server",
        istioNamespace: "istio-system",
    };
    const args = [...argv];
    const valueOf = (flag: string, inline: string | undefined): string => {
        if (inline !== undefined) return inline;
        const next = args.shift();
        if (next === undefined || next.startsWith("--")) throw new UsageError(`${flag} needs a value`);
        return next;
    };
    while (args.length > 0) {
        const arg = args.shift()!;
        const [flag, inline] = arg.includes("=") && arg.startsWith("--") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
        switch (flag) {
            case "--help":
            case "-h":
                return { help: true };
            case "--json":
                options.json = true;
                break;
            case "--stack":
                options.stack = valueOf(flag, inline);
                break;
            case "--outputs":
                options.outputsFile = valueOf(flag, inline);
                break;
            case "--kubeconfig":
                options.kubeconfigPath = valueOf(flag, inline);
                break;
            case "--kubeconfig-context": {
                const pair = valueOf(flag, inline);
                const match = /^([^=]+)=(.+)$/.exec(pair);
                if (!match) throw new UsageError(`--kubeconfig-context takes <domain>=<context>, got ${JSON.stringify(pair)}`);
                options.contexts[match[1]] = match[2];
                break;
            }
            case "--checks": {
                const names = valueOf(flag, inline).split(",").map((name) => name.trim()).filter(Boolean);
                const unknown = names.filter((name) => !(checkIds as readonly string[]).includes(name));
                if (unknown.length > 0 || names.length === 0) {
                    throw new UsageError(`--checks takes names from ${checkIds.join(", ")}; unknown: ${unknown.join(", ") || "(none given)"}`);
                }
                // Checks always run in the documented order.
                options.checks = checkIds.filter((id) => names.includes(id));
                break;
            }
            case "--requests":
                options.requests = positiveInteger(flag, valueOf(flag, inline));
                break;
            case "--timeout":
                options.timeoutSeconds = positiveInteger(flag, valueOf(flag, inline));
                break;
            case "--istiod-cert-duration": {
                const value = valueOf(flag, inline);
                if (!isDuration(value)) throw new UsageError(`--istiod-cert-duration takes a duration such as 720h, got ${JSON.stringify(value)}`);
                options.istiodCertDuration = value;
                break;
            }
            case "--spire-namespace":
                options.spireNamespace = valueOf(flag, inline);
                break;
            case "--istio-namespace":
                options.istioNamespace = valueOf(flag, inline);
                break;
            default:
                throw new UsageError(`unknown argument ${JSON.stringify(arg)} (see --help)`);
        }
    }
    if ((options.stack === undefined) === (options.outputsFile === undefined)) {
        throw new UsageError("give exactly one of --stack <name> or --outputs <file>");
    }
    if (options.kubeconfigPath !== undefined && Object.keys(options.contexts).length === 0) {
        throw new UsageError("--kubeconfig only applies together with --kubeconfig-context");
    }
    return { help: false, options };
}
