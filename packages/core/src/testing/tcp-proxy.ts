import type { Server, Socket } from "node:net";
import { connect, createServer } from "node:net";

/** Where a {@link tcpProxy} sends connections. */
export interface ProxyTarget {
  /** Default `127.0.0.1`. */
  readonly host?: string;
  readonly port: number;
}

/**
 * What to do with one chunk a client sent: `pass` it on; `forward-then-cut` (the server gets it,
 * the client never hears back: a COMMIT whose answer is lost); `cut` (neither end gets it).
 */
export type ChunkVerdict = "pass" | "forward-then-cut" | "cut";

export interface TcpProxyOptions {
  /**
   * Where connections go: one target, or several taken in turn (round robin) — a target that
   * refuses the connection is skipped for the next, as a load balancer does with a dead backend.
   * None: connections are accepted and closed at once.
   */
  readonly targets: ProxyTarget | number | readonly (ProxyTarget | number)[];
  /** The port to listen on (default 0: a free one; `restore()` listens on the same). */
  readonly port?: number;
  /** Sees each chunk a client sends (default: everything passes, piped). */
  readonly onClientData?: (chunk: Buffer) => ChunkVerdict;
}

/**
 * A TCP proxy on loopback for tests that break the network between a client and a server: a
 * database failover (`switchTo` the promoted standby, every connection in flight reset), a server
 * gone (`cut`/`restore`), connections lost all at once (`cutAll`), a COMMIT whose answer is lost
 * (`onClientData`), or a load balancer in front of processes that die and restart (several targets).
 */
export interface TcpProxy {
  /** The port it listens on (the same after `restore`). */
  readonly port: number;
  /** The ports new connections go to now. */
  readonly targets: readonly number[];
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Times connections were cut on purpose (`cutAll`, `switchTo`, a `cut`/`forward-then-cut` verdict). */
  readonly cuts: number;
  /** Sends new connections to `targets` (none: refused) and resets every connection in flight. */
  switchTo(targets: ProxyTarget | number | readonly (ProxyTarget | number)[] | undefined): void;
  /** Resets every connection in flight; new ones are served as before. */
  cutAll(): void;
  /** Stops listening and resets every connection: clients get ECONNREFUSED / ECONNRESET. */
  cut(): Promise<void>;
  /** Listens again on the same port after `cut`. */
  restore(): Promise<void>;
  /** Stops listening and resets every connection, for good. */
  close(): Promise<void>;
}

const list = (targets: TcpProxyOptions["targets"] | undefined): ProxyTarget[] => {
  if (targets === undefined) return [];
  const all = Array.isArray(targets) ? targets : [targets];
  return all.map((t: ProxyTarget | number) => (typeof t === "number" ? { port: t } : t));
};

interface Pair {
  readonly client: Socket;
  upstream: Socket | undefined;
}

export async function tcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  let targets = list(options.targets);
  let turn = 0;
  let accepted = 0;
  let cuts = 0;
  let port = options.port ?? 0;
  let server: Server | undefined;
  const pairs = new Set<Pair>();

  const resetAll = () => {
    for (const { client, upstream } of [...pairs]) {
      client.destroy();
      upstream?.destroy();
    }
    pairs.clear();
  };

  const onConnection = (client: Socket) => {
    accepted++;
    client.on("error", () => undefined);
    const candidates =
      targets.length === 0
        ? []
        : [...targets.slice(turn % targets.length), ...targets.slice(0, turn % targets.length)];
    turn++;
    if (candidates.length === 0) {
      client.destroy();
      return;
    }
    // Nothing is read from the client until an upstream took the connection.
    client.pause();
    const pair: Pair = { client, upstream: undefined };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.once("close", drop);
    const attempt = (i: number) => {
      if (client.destroyed) return;
      const target = candidates[i];
      if (!target) return drop();
      const upstream = connect({ host: target.host ?? "127.0.0.1", port: target.port });
      pair.upstream = upstream;
      let connected = false;
      upstream.on("error", () => {
        if (connected) return drop();
        upstream.destroy();
        attempt(i + 1);
      });
      upstream.once("connect", () => {
        connected = true;
        if (client.destroyed) return upstream.destroy();
        upstream.on("close", drop);
        upstream.pipe(client);
        const judge = options.onClientData;
        if (!judge) {
          client.pipe(upstream);
          return;
        }
        client.on("data", (chunk: Buffer) => {
          const verdict = judge(chunk);
          if (verdict === "pass") {
            upstream.write(chunk);
            return;
          }
          cuts++;
          client.destroy();
          if (verdict === "forward-then-cut") upstream.end(chunk);
          else upstream.destroy();
        });
        client.resume();
      });
    };
    attempt(0);
  };

  const listen = async () => {
    const next = createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      next.once("error", reject);
      next.listen(port, "127.0.0.1", () => {
        next.off("error", reject);
        resolve();
      });
    });
    server = next;
    port = (next.address() as { port: number }).port;
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      const current = server;
      server = undefined;
      resetAll();
      if (!current) return resolve();
      current.close(() => resolve());
    });
  await listen();

  return {
    get port() {
      return port;
    },
    get targets() {
      return targets.map((t) => t.port);
    },
    get accepted() {
      return accepted;
    },
    get cuts() {
      return cuts;
    },
    switchTo(next) {
      targets = list(next);
      cuts++;
      resetAll();
    },
    cutAll() {
      cuts++;
      resetAll();
    },
    cut: stop,
    restore: listen,
    async close() {
      targets = [];
      await stop();
    },
  };
}
