/**
 * The test bed's stand-in for kube-proxy, where a check must go through a Service's node port to
 * a host process (simulated nodes run no kube-proxy): a TCP forwarder from `listen` (the node's
 * address and the node port) to `target` (the process's listener). Bytes only, no TLS: what
 * reaches the target is what a client sent to the node port.
 *
 * None of the istiod checks needs one: they read istiod's own listeners on the cluster's address,
 * and istiod's Service (ClusterIP, 15010/15012/15017/443) only serves proxies, which are simulated.
 */
import * as net from "node:net";

export interface Forwarder {
    /** `host:port` it listens on. */
    listening: string;
    /** Connections accepted so far (evidence that a check went through it). */
    connections(): number;
    close(): Promise<void>;
}

export interface Endpoint {
    host: string;
    port: number;
}

/** Listens on `listen` (port 0: any free port) and pipes every connection to `target`. */
export async function forward(listen: Endpoint, target: Endpoint): Promise<Forwarder> {
    let accepted = 0;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((client) => {
        accepted++;
        const upstream = net.connect(target.port, target.host);
        for (const socket of [client, upstream]) {
            sockets.add(socket);
            socket.on("close", () => sockets.delete(socket));
        }
        // Either side failing ends both: the client sees the connection drop, as with a dead endpoint.
        client.on("error", () => upstream.destroy());
        upstream.on("error", () => client.destroy());
        client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(listen.port, listen.host, () => resolve());
    });
    const address = server.address() as net.AddressInfo;
    return {
        listening: `${address.address}:${address.port}`,
        connections: () => accepted,
        close: () =>
            new Promise<void>((resolve) => {
                for (const socket of sockets) socket.destroy();
                server.close(() => resolve());
            }),
    };
}
