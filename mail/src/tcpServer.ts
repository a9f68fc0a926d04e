/** The TCP side shared by the resolver's socketmap server and the DKIM milter: Postfix keeps one connection per process. */
import * as net from "node:net";

export interface RunningServer {
    /** The port actually bound (useful with port 0). */
    port: number;
    close(): Promise<void>;
}

/** Listens on host:port and hands each connection to `onConnection`; `close()` also ends open connections. */
export async function listenTcp(host: string, port: number, onConnection: (socket: net.Socket) => void): Promise<RunningServer> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
        sockets.add(socket);
        // Replies are small and awaited one by one: never hold them back for Nagle.
        socket.setNoDelay(true);
        socket.on("close", () => sockets.delete(socket));
        socket.on("error", () => socket.destroy());
        onConnection(socket);
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve());
    });
    return {
        port: (server.address() as net.AddressInfo).port,
        close: () =>
            new Promise<void>((resolve) => {
                for (const socket of sockets) socket.destroy();
                server.close(() => resolve());
            }),
    };
}
