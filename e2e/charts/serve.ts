/**
 * Serves the Helm repositories that package.ts wrote, read-only, on a loopback address.
 *
 *   npx tsx e2e/charts/serve.ts <outDir> [host=127.0.0.1] [port=0]
 *
 * Once listening it prints the three repository URLs as one JSON line on stdout, ready to be the
 * stack's `chartRepositories` (port 0 picks a free port, so read them from there). Each request is
 * logged to stderr. SIGTERM or SIGINT closes the listener and every open connection, then exits 0.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { ChartRepositories, chartRepositories } from "../../versions";

const repositories = Object.keys(chartRepositories) as (keyof ChartRepositories)[];

/** The test bed's mirror must not be reachable from outside the machine. */
export function isLoopback(host: string): boolean {
    if (host === "localhost") return true;
    if (net.isIPv4(host)) return host.startsWith("127.");
    return net.isIPv6(host) && host === "::1";
}

/** The `chartRepositories` config value for a server at this address. */
export function repositoryUrls(host: string, port: number): ChartRepositories {
    const authority = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
    return Object.fromEntries(repositories.map((name) => [name, `http://${authority}/${name}`])) as ChartRepositories;
}

/**
 * The file a request path names inside the served folder, or undefined for anything else (a path
 * escaping the folder, a directory, a missing file).
 */
export function fileFor(root: string, requestPath: string): string | undefined {
    let decoded: string;
    try {
        decoded = decodeURIComponent(new URL(requestPath, "http://mirror").pathname);
    } catch {
        return undefined;
    }
    const file = path.resolve(root, `.${path.posix.normalize(decoded)}`);
    if (!file.startsWith(root + path.sep)) return undefined;
    return fs.existsSync(file) && fs.statSync(file).isFile() ? file : undefined;
}

const contentTypes: Record<string, string> = { ".yaml": "application/x-yaml", ".tgz": "application/gzip" };

/**
 * Answers GET and HEAD with the named file under `root`; everything else is 404 or 405. Each request
 * goes to `log` (stderr by default, so stdout carries only the URLs a caller parses).
 */
export function mirrorServer(root: string, log: (line: string) => void = (line) => console.error(line)): http.Server {
    return http.createServer((request, response) => {
        const finish = (status: number, body?: Buffer, type = "text/plain"): void => {
            response.writeHead(status, { "Content-Type": type, "Content-Length": body?.length ?? 0 });
            response.end(request.method === "HEAD" ? undefined : body);
            log(`${new Date().toISOString()} ${request.method} ${request.url} ${status} ${body?.length ?? 0}`);
        };
        if (request.method !== "GET" && request.method !== "HEAD") return finish(405);
        const file = fileFor(root, request.url ?? "/");
        if (file === undefined) return finish(404);
        fs.readFile(file, (error, data) =>
            error ? finish(500) : finish(200, data, contentTypes[path.extname(file)] ?? "application/octet-stream"),
        );
    });
}

/** Starts serving `root`; resolves with the server and the repository URLs once it listens. */
export async function serve(root: string, host: string, port: number): Promise<{ server: http.Server; urls: ChartRepositories }> {
    if (!isLoopback(host)) throw new Error(`host ${host} is not a loopback address (127.0.0.0/8, ::1 or localhost)`);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`port ${port} is not a port number (0 picks a free one)`);
    const missing = repositories.filter((name) => !fs.existsSync(path.join(root, name, "index.yaml")));
    if (missing.length > 0) throw new Error(`${root} has no index.yaml for ${missing.join(", ")}; run e2e/charts/package.ts first`);
    const server = mirrorServer(root);
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, resolve);
    });
    return { server, urls: repositoryUrls(host, (server.address() as net.AddressInfo).port) };
}

if (require.main === module) {
    const [root, host = "127.0.0.1", port = "0"] = process.argv.slice(2);
    if (root === undefined) {
        console.error("usage: serve.ts <outDir> [host=127.0.0.1] [port=0]");
        process.exit(2);
    }
    serve(path.resolve(root), host, Number(port)).then(
        ({ server, urls }) => {
            console.log(JSON.stringify(urls));
            const stop = (signal: string): void => {
                console.error(`${signal}: stopping the chart mirror`);
                server.close(() => process.exit(0));
                server.closeAllConnections();
            };
            process.once("SIGTERM", () => stop("SIGTERM"));
            process.once("SIGINT", () => stop("SIGINT"));
        },
        (error: Error) => {
            console.error(`serve: ${error.message}`);
            process.exit(1);
        },
    );
}
