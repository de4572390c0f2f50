/**
 * The command line, environment and working directory of `pilot-discovery` run on the host in
 * place of the rendered istiod Deployment's `discovery` container. Everything comes from the
 * Deployment and its (simulated) pod as the API server holds them; the few changes a host
 * process needs are applied here and returned, each with its reason, so that the test bed can
 * print exactly how the host process differs from the container. Pure.
 */
import { containerOf, Deployment, Node, Pod, resolveArgs, resolveEnv, ResolvedEnv } from "./podSpec";

/** Name of istiod's container in the chart's Deployment (istiod/templates/deployment.yaml). */
export const discoveryContainer = "discovery";

/**
 * pilot-discovery's listen flags and their defaults (istio 1.30.3
 * pilot/cmd/pilot-discovery/app/cmd.go:159-167): each one, on the host, binds the cluster's own
 * loopback address instead of every interface, so that one istiod per cluster can run on one
 * machine with the container's port numbers.
 */
export const listenFlags = [
    { flag: "httpAddr", port: 8080, what: "HTTP debug and readiness (/ready, /debug/*)" },
    { flag: "grpcAddr", port: 15010, what: "plaintext XDS" },
    { flag: "secureGRPCAddr", port: 15012, what: "mTLS XDS and the CA" },
    { flag: "httpsAddr", port: 15017, what: "injection and validation webhooks" },
    { flag: "monitoringAddr", port: 15014, what: "metrics and the debug endpoints" },
] as const;

export type ListenFlag = (typeof listenFlags)[number]["flag"];

/** A port other than the container's for a listen flag, with the reason. */
export type PortOverrides = Partial<Record<ListenFlag, { port: number; why: string }>>;

/** Where and how this host process runs: everything the caller chooses. */
export interface HostSettings {
    /** The cluster's loopback address (127.0.0.2...): every listener binds it. */
    address: string;
    /** Kubeconfig of the pod's ServiceAccount for this cluster's API server (what the pod's in-cluster config would be). */
    kubeconfig: string;
    /** The host process's working directory: istiod's default paths (./etc/cacerts...) are relative to it. */
    workDir: string;
    /** Ports to use instead of the container's, per listen flag, and why (another process of the cluster holds the container's). */
    ports?: PortOverrides;
    /** Cores the host offers: GOMAXPROCS is capped to it when the kubelet's value exceeds it. */
    hostCores: number;
}

/** One way in which the host process differs from the container, with why. */
export interface HostChange {
    /** `arg --httpAddr`, `env KUBECONFIG`, `workdir`... */
    what: string;
    /** The container's value (`(unset)` when the container has none). */
    container: string;
    host: string;
    why: string;
}

export interface HostCommand {
    /** Arguments after the binary: the container's `args` (its image's entrypoint is pilot-discovery), changed as listed. */
    args: string[];
    /** The complete environment of the process (nothing inherited from the test bed). */
    env: Record<string, string>;
    /** Every variable of the container's env as the kubelet resolved it, before host changes. */
    resolvedEnv: ResolvedEnv[];
    /** The URL of the Deployment's readiness probe on the host. */
    readinessUrl: string;
    /** Each listen flag's host address. */
    listen: Record<ListenFlag, string>;
    changes: HostChange[];
}

/** `--flag=value` or `--flag value` (also with one dash), as pflag reads them; undefined when absent. */
export function flagValue(args: string[], flag: string): string | undefined {
    for (let i = 0; i < args.length; i++) {
        const match = /^--?([^=]+)(?:=(.*))?$/.exec(args[i]);
        if (match?.[1] !== flag) continue;
        return match[2] ?? args[i + 1];
    }
    return undefined;
}

/** `args` without any form of `--flag` (value flags only), then `--flag=value` appended. */
export function withFlag(args: string[], flag: string, value: string): string[] {
    const out: string[] = [];
    for (let i = 0; i < args.length; i++) {
        const match = /^--?([^=]+)(=.*)?$/.exec(args[i]);
        if (match?.[1] === flag) {
            if (match[2] === undefined) i++; // the value is the next argument
            continue;
        }
        out.push(args[i]);
    }
    return [...out, `--${flag}=${value}`];
}

/** `host:port`, IPv6 in brackets. */
const hostPort = (host: string, port: number): string => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);

/**
 * The host process for `deployment`'s istiod container, standing in for `pod` on `node`:
 * the container's args and env (fieldRefs from the pod, resourceFieldRefs from the container and
 * node), changed only where a host process must differ.
 */
export function hostCommand(deployment: Deployment, pod: Pod, node: Node | undefined, host: HostSettings): HostCommand {
    const container = containerOf(deployment.spec.template.spec, discoveryContainer);
    const resolvedEnv = resolveEnv(container, pod, node);
    let args = resolveArgs(container, resolvedEnv);
    if (args[0] !== "discovery") throw new Error(`container ${discoveryContainer}: args start with ${JSON.stringify(args[0])}, want the "discovery" subcommand`);
    const changes: HostChange[] = [];
    const declared = new Set((container.ports ?? []).map((port) => port.containerPort));

    const listen = {} as Record<ListenFlag, string>;
    for (const { flag, port, what } of listenFlags) {
        // A chart that moved a port would leave the host process listening where nothing expects it.
        if (!declared.has(port)) throw new Error(`container ${discoveryContainer} declares no port ${port} (pilot-discovery's --${flag} default); its ports: ${[...declared].join(", ")}`);
        const override = host.ports?.[flag];
        const address = hostPort(host.address, override?.port ?? port);
        listen[flag] = address;
        changes.push({
            what: `arg --${flag}`,
            container: flagValue(args, flag) ?? `(unset: :${port})`,
            host: address,
            why: `${what}: bound to the cluster's loopback address instead of every interface, so each cluster's istiod has its own${override !== undefined ? `; port ${override.port}, not ${port}: ${override.why}` : ""}`,
        });
        args = withFlag(args, flag, address);
    }
    // ControlZ (istio 1.30.3 pkg/ctrlz/options.go:50-53) listens on localhost:9876 by default: one per host only.
    changes.push({
        what: "arg --ctrlz_address",
        container: flagValue(args, "ctrlz_address") ?? "(unset: localhost, port 9876)",
        host: host.address,
        why: "ControlZ introspection listens on localhost:9876 in every istiod; on one host the second istiod could not bind it",
    });
    args = withFlag(args, "ctrlz_address", host.address);
    changes.push({
        what: "arg --kubeconfig",
        container: flagValue(args, "kubeconfig") ?? "(unset: in-cluster config)",
        host: host.kubeconfig,
        why: "a pod reaches its API server through the in-cluster config (service host variables and the mounted token); a host process has none, so a kubeconfig carries the same ServiceAccount's token",
    });
    args = withFlag(args, "kubeconfig", host.kubeconfig);

    const env: Record<string, string> = {};
    for (const variable of resolvedEnv) env[variable.name] = variable.value;
    if (env.KUBECONFIG !== undefined) {
        changes.push({
            what: "env KUBECONFIG",
            container: env.KUBECONFIG,
            host: host.kubeconfig,
            why: "in the pod it names the optional Secret istio-kubeconfig's mount, absent here, so client-go falls back to the in-cluster config; on the host it names the same kubeconfig as --kubeconfig",
        });
        env.KUBECONFIG = host.kubeconfig;
    }
    const maxProcs = Number(env.GOMAXPROCS);
    if (Number.isFinite(maxProcs) && maxProcs > host.hostCores) {
        changes.push({
            what: "env GOMAXPROCS",
            container: env.GOMAXPROCS,
            host: String(host.hostCores),
            why: `the kubelet's value (the simulated node's allocatable CPU, the container setting no limit) exceeds the ${host.hostCores} cores of this machine`,
        });
        env.GOMAXPROCS = String(host.hostCores);
    }
    changes.push({
        what: "workdir",
        container: "/",
        host: host.workDir,
        why: "istiod's default paths are relative (./etc/cacerts, ./var/run/secrets/...): the pod's volumes are written under this folder at their mount paths",
    });

    const probe = container.readinessProbe?.httpGet;
    if (probe === undefined) throw new Error(`container ${discoveryContainer} has no httpGet readiness probe`);
    const probePort = typeof probe.port === "number" ? probe.port : container.ports?.find((port) => port.name === probe.port)?.containerPort;
    const probeFlag = listenFlags.find((entry) => entry.port === probePort);
    if (probeFlag === undefined) throw new Error(`readiness probe port ${probe.port} is none of pilot-discovery's listen ports`);
    const readinessUrl = `${(probe.scheme ?? "HTTP").toLowerCase()}://${listen[probeFlag.flag]}${probe.path ?? "/"}`;

    return { args, env, resolvedEnv, readinessUrl, listen, changes };
}
