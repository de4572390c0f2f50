/**
 * The test bed's stand-in for kube-proxy, for the one Service whose endpoint is a host process:
 * a NodePort on the node's address forwarded, byte for byte, to the process that stands in for the
 * Service's pod. TLS passes through untouched (the SPIRE server's own certificate is what the
 * peer sees), so nothing about the endpoint is faked but the routing.
 */
import * as net from "node:net";

export interface Forwarder {
    /** `address:port -> targetAddress:targetPort`, for evidence. */
    route: string;
    /** Connections forwarded so far: evidence that peers really came through the node port. */
    connections(): number;
    close(): Promise<void>;
}

/**
 * Listens on `listen` and pipes every connection to `target`.
 *
 * @param listen The node's address and the Service's node port: what the exported URL names.
 * @param target Where the process behind the Service listens: the cluster's loopback address (the
 *   pod IP's stand-in) and the endpoint's port as the EndpointSlice resolves the Service's targetPort.
 */
const open = new Set<Forwarder>();

/** Closes every forwarder still open (what a driver calls on teardown). */
export async function closeAllForwarders(): Promise<string[]> {
    const closed: string[] = [];
    for (const forwarder of [...open]) {
        await forwarder.close();
        closed.push(`forwarder ${forwarder.route}: closed after ${forwarder.connections()} connections`);
    }
    return closed;
}

export async function startForwarder(listen: { address: string; port: number }, target: { address: string; port: number }): Promise<Forwarder> {
    let count = 0;
    const sockets = new Set<net.Socket>();
    // Half-open both ways: one side's end is passed on as an end, not a close, as TCP through NAT.
    const server = net.createServer({ allowHalfOpen: true }, (inbound) => {
        count++;
        const outbound = net.connect({ port: target.port, host: target.address, allowHalfOpen: true });
        for (const socket of [inbound, outbound]) {
            sockets.add(socket);
            socket.on("close", () => sockets.delete(socket));
            // A reset on one side ends the other, as a closed connection through kube-proxy would.
            socket.on("error", () => {
                inbound.destroy();
                outbound.destroy();
            });
        }
        inbound.pipe(outbound);
        outbound.pipe(inbound);
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(listen.port, listen.address, () => resolve());
    });
    const forwarder: Forwarder = {
        route: `${listen.address}:${listen.port} -> ${target.address}:${target.port}`,
        connections: () => count,
        close: () =>
            new Promise<void>((resolve) => {
                open.delete(forwarder);
                for (const socket of sockets) socket.destroy();
                server.close(() => resolve());
            }),
    };
    open.add(forwarder);
    return forwarder;
}
