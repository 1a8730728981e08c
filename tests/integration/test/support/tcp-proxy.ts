import type { Server, Socket } from "node:net";
import { connect, createServer } from "node:net";

/** A TCP proxy on loopback to `target`, which a test cuts (port refused, open sockets destroyed) and restores. */
export interface TcpProxy {
  /** The proxy's port (the same after `restore`). */
  readonly port: number;
  /** Stops listening and destroys every open connection: clients get ECONNREFUSED / ECONNRESET. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
}

export async function tcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = async () => {
    server = createServer((client) => {
      const upstream = connect(target.port, target.host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on("close", () => {
          sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
        s.on("error", () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  };
  await listen();
  return {
    get port() {
      return port;
    },
    cut: () =>
      new Promise<void>((resolve) => {
        server!.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
    restore: listen,
  };
}
