/**
 * Loopback ports for this suite's servers. 21000-21999 is this suite's range on shared machines; 21100-21119 is
 * kept for the mail harness in endToEnd.test.ts (it takes fixed ports), so ephemeral servers use 21200-21999.
 */
import * as net from "node:net";

const RANGE_START = 21200;
const RANGE_SIZE = 800;
let next = RANGE_START + Math.floor(Math.random() * RANGE_SIZE);

function tryListen(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const server = net.createServer();
        server.once("error", () => resolve(false));
        server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
}

/** A port in the range that is free right now. */
export async function freePort(): Promise<number> {
    for (let i = 0; i < RANGE_SIZE; i++) {
        const port = RANGE_START + ((next - RANGE_START + i) % RANGE_SIZE);
        if (await tryListen(port)) {
            next = port + 1;
            return port;
        }
    }
    throw new Error(`no free loopback port in ${RANGE_START}-${RANGE_START + RANGE_SIZE - 1}`);
}
