/**
 * The @kubernetes/client-node implementation of MeshAccess against a small fake API server
 * (REST plus the exec WebSocket channel protocol), so the real client code paths run here.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { KubeMeshAccess } from "../scripts/verify/kubeMeshAccess";

interface FakeSocket {
    protocol: string;
    send(data: Buffer): void;
    on(event: "close", listener: () => void): void;
}
interface FakeSocketServer {
    handleUpgrade(request: IncomingMessage, socket: unknown, head: Buffer, done: (ws: FakeSocket) => void): void;
    close(): void;
}
// `ws` is @kubernetes/client-node's own WebSocket dependency; it ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { WebSocketServer } = require("ws") as {
    WebSocketServer: new (options: { noServer: boolean; handleProtocols: (protocols: Set<string>) => string }) => FakeSocketServer;
};

const frame = (channel: number, text: string) => Buffer.concat([Buffer.from([channel]), Buffer.from(text, "utf8")]);

let server: Server;
let sockets: FakeSocketServer;
let access: KubeMeshAccess;
const requests: { method: string; path: string; body: string; auth: string }[] = [];
const execs: { path: string; commands: string[]; container: string; protocol: string }[] = [];

function json(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
}

const notFound = (response: ServerResponse, what: string) =>
    json(response, 404, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404, message: `${what} not found` });

function route(method: string, path: string, body: string, response: ServerResponse): void {
    const url = new URL(path, "http://fake");
    const p = url.pathname;
    if (method === "GET" && p === "/api/v1/namespaces/sleep/pods") {
        expect(url.searchParams.get("labelSelector")).toBe("app=sleep");
        return json(response, 200, {
            kind: "PodList",
            apiVersion: "v1",
            metadata: {},
            items: [
                {
                    metadata: { name: "sleep-64cbcc4cd9-zvmsx", namespace: "sleep", labels: { app: "sleep" } },
                    spec: { serviceAccountName: "sleep", containers: [{ name: "sleep", image: "curl" }] },
                    status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
                },
                {
                    metadata: { name: "sleep-old", namespace: "sleep", labels: { app: "sleep" }, deletionTimestamp: "2026-01-01T00:00:00Z" },
                    spec: { containers: [{ name: "sleep", image: "curl" }] },
                    status: { phase: "Running", conditions: [{ type: "Ready", status: "False" }] },
                },
            ],
        });
    }
    if (method === "GET" && p === "/apis/apps/v1/namespaces/helloworld/deployments/helloworld-v1") {
        return json(response, 200, { kind: "Deployment", apiVersion: "apps/v1", metadata: { name: "helloworld-v1" }, spec: { replicas: 2, selector: {}, template: {} }, status: { readyReplicas: 1 } });
    }
    if (p === "/apis/apps/v1/namespaces/helloworld/deployments/helloworld-v1/scale") {
        const scale = { kind: "Scale", apiVersion: "autoscaling/v1", metadata: { name: "helloworld-v1", namespace: "helloworld", resourceVersion: "42" }, spec: { replicas: 2 } };
        return json(response, 200, method === "PUT" ? JSON.parse(body) : scale);
    }
    if (method === "GET" && p === "/api/v1/namespaces/istio-system/secrets/cacerts") {
        return json(response, 200, { kind: "Secret", apiVersion: "v1", metadata: { name: "cacerts" }, data: { "tls.crt": Buffer.from("PEM TEXT").toString("base64") } });
    }
    if (method === "GET" && p === "/apis/spire.spiffe.io/v1alpha1/clusterfederatedtrustdomains") {
        return json(response, 200, { apiVersion: "spire.spiffe.io/v1alpha1", kind: "ClusterFederatedTrustDomainList", items: [{ metadata: { name: "bar-com" }, spec: { trustDomain: "bar.com" } }] });
    }
    return notFound(response, p);
}

beforeAll(async () => {
    sockets = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has("v4.channel.k8s.io") ? "v4.channel.k8s.io" : "") });
    server = createServer((request, response) => {
        let body = "";
        request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
        request.on("end", () => {
            requests.push({ method: request.method!, path: request.url!, body, auth: String(request.headers.authorization) });
            route(request.method!, request.url!, body, response);
        });
    });
    server.on("upgrade", (request: IncomingMessage, socket: unknown, head: Buffer) => {
        const url = new URL(request.url!, "http://fake");
        sockets.handleUpgrade(request, socket, head, (ws) => {
            const commands = url.searchParams.getAll("command");
            execs.push({ path: url.pathname, commands, container: url.searchParams.get("container")!, protocol: ws.protocol });
            if (commands[0] === "hang") return;
            if (commands[0] === "fail") {
                ws.send(frame(2, "config_dump: connection refused\n"));
                ws.send(frame(3, JSON.stringify({ status: "Failure", reason: "NonZeroExitCode", details: { causes: [{ reason: "ExitCode", message: "7" }] } })));
                return;
            }
            ws.send(frame(1, "first half, "));
            ws.send(frame(2, "a warning\n"));
            ws.send(frame(1, "second half\n"));
            ws.send(frame(3, JSON.stringify({ metadata: {}, status: "Success" })));
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    access = KubeMeshAccess.fromKubeconfig(
        "cluster-1",
        stringify({
            apiVersion: "v1",
            kind: "Config",
            // client-node only speaks plain HTTP when TLS verification is off; this server has no TLS.
            clusters: [{ name: "fake", cluster: { server: `http://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } }],
            users: [{ name: "fake", user: { token: "test-token" } }],
            contexts: [{ name: "fake", context: { cluster: "fake", user: "fake" } }],
            "current-context": "fake",
        }),
    );
});

afterAll(async () => {
    sockets.close();
    await new Promise((resolve) => server.close(resolve));
});

describe("KubeMeshAccess over @kubernetes/client-node", () => {
    it("lists pods with their account, readiness and deletion state, authenticating with the kubeconfig", async () => {
        const pods = await access.listPods("sleep", "app=sleep");
        expect(pods).toEqual([
            { name: "sleep-64cbcc4cd9-zvmsx", namespace: "sleep", serviceAccount: "sleep", phase: "Running", terminating: false, ready: true, labels: { app: "sleep" } },
            { name: "sleep-old", namespace: "sleep", serviceAccount: "default", phase: "Running", terminating: true, ready: false, labels: { app: "sleep" } },
        ]);
        expect(requests.at(-1)!.auth).toBe("Bearer test-token");
    });

    it("runs a command over the exec WebSocket, keeping stdout and stderr apart", async () => {
        const result = await access.execInPod("sleep", "sleep-64cbcc4cd9-zvmsx", "sleep", ["sh", "-c", "curl -sS 'http://helloworld.helloworld:5000/hello'"], 5_000);
        expect(result).toEqual({ stdout: "first half, second half\n", stderr: "a warning\n", exitCode: 0 });
        expect(execs.at(-1)).toEqual({
            path: "/api/v1/namespaces/sleep/pods/sleep-64cbcc4cd9-zvmsx/exec",
            commands: ["sh", "-c", "curl -sS 'http://helloworld.helloworld:5000/hello'"],
            container: "sleep",
            protocol: "v4.channel.k8s.io",
        });
    });

    it("reports the command's exit code from the status channel", async () => {
        const result = await access.execInPod("default", "productpage-v1-0", "istio-proxy", ["fail"], 5_000);
        expect(result).toEqual({ stdout: "", stderr: "config_dump: connection refused\n", exitCode: 7 });
    });

    it("gives up on a command that never ends, with exit code -1", async () => {
        const result = await access.execInPod("sleep", "sleep-64cbcc4cd9-zvmsx", "sleep", ["hang"], 300);
        expect(result.exitCode).toBe(-1);
        expect(result.stderr).toContain("timed out after 300 ms");
    });

    it("reads and scales Deployments through the scale subresource", async () => {
        expect(await access.getDeployment("helloworld", "helloworld-v1")).toEqual({ replicas: 2, readyReplicas: 1 });
        expect(await access.getDeployment("helloworld", "helloworld-v9")).toBeUndefined();
        await access.scaleDeployment("helloworld", "helloworld-v1", 0);
        const put = requests.filter((r) => r.method === "PUT").at(-1)!;
        expect(put.path).toBe("/apis/apps/v1/namespaces/helloworld/deployments/helloworld-v1/scale");
        // The read resourceVersion goes back, so a concurrent change makes the write conflict instead of being lost.
        expect(JSON.parse(put.body)).toMatchObject({ metadata: { resourceVersion: "42" }, spec: { replicas: 0 } });
    });

    it("decodes Secret data and treats a missing Secret or CRD as absent", async () => {
        expect(await access.getSecret("istio-system", "cacerts")).toEqual({ "tls.crt": "PEM TEXT" });
        expect(await access.getSecret("istio-system", "missing")).toBeUndefined();
        expect(await access.listCustomObjects({ group: "spire.spiffe.io", version: "v1alpha1", plural: "clusterfederatedtrustdomains" })).toEqual([
            { metadata: { name: "bar-com" }, spec: { trustDomain: "bar.com" } },
        ]);
        expect(await access.listCustomObjects({ group: "cert-manager.io", version: "v1", plural: "certificates", namespace: "istio-system" })).toEqual([]);
    });
});
