import type { Server, Socket } from "node:net";
import { connect, createServer } from "node:net";

/**
 * A TCP proxy the harness points at the current primary, as an operator moves a DNS name or a
 * proxy (HAProxy, PgBouncer) in a failover. `switchTo` drops every connection in flight — the
 * clients see their connections reset, as when the server behind them dies — and sends new ones
 * to the new target. With no target, connections are accepted and closed at once.
 */
export interface SwitchingProxy {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  /** The port new connections go to, or undefined. */
  readonly target: number | undefined;
  switchTo(port: number | undefined): void;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function startProxy(target: number): Promise<SwitchingProxy> {
  let current: number | undefined = target;
  let accepted = 0;
  const pairs = new Set<[Socket, Socket]>();
  const server: Server = createServer((client) => {
    accepted++;
    if (current === undefined) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: "127.0.0.1", port: current });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    get target() {
      return current;
    },
    get accepted() {
      return accepted;
    },
    switchTo(next) {
      current = next;
      for (const [client, upstream] of [...pairs]) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    async close() {
      current = undefined;
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
