import type { IncomingMessage, RequestListener, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Limits and shutdown of {@link serve}. Every limit has a default fit for an API behind a
 * reverse proxy; set them to what your proxy allows (its limits should be the tighter ones).
 */
export interface ServeOptions {
  /** The port (default 3000; 0 picks a free one). */
  readonly port?: number;
  /** The address to listen on (default: all). */
  readonly host?: string;
  /**
   * How long a client may take to send a request's headers (default 10 000 ms): a slow-headers
   * ("slowloris") connection is cut with 408 after it. Node's own default is 60 s.
   */
  readonly headersTimeout?: number;
  /**
   * How long a client may take to send a whole request, headers and body (default 300 000 ms,
   * Node's; an API without uploads can take 30 000). Must be 0 (none) or at least `headersTimeout`.
   */
  readonly requestTimeout?: number;
  /** How long an idle keep-alive connection stays open for its next request (default 5 000 ms). */
  readonly keepAliveTimeout?: number;
  /**
   * Open connections this process accepts (default 1 000); a connection past the cap is closed at
   * once, so the process keeps its memory and file descriptors for the ones it serves.
   */
  readonly maxConnections?: number;
  /**
   * How often Node checks the header and request timeouts (default: 1 000 ms, or `headersTimeout`
   * if shorter; Node's own default is 30 s, which lets a slow connection live that much longer).
   */
  readonly connectionsCheckingInterval?: number;
  /**
   * On `close()`, how long requests in flight may take to finish (default 10 000 ms); after it,
   * their connections are destroyed.
   */
  readonly shutdownTimeoutMs?: number;
  /**
   * On `close()`, how long to keep serving before the listening socket closes (default 0): time
   * for the load balancer to see the failing readiness probe (`draining`) and stop sending new
   * connections, so none arrives at a socket that is closing. Answers meanwhile carry
   * `Connection: close`. Not counted in `shutdownTimeoutMs`.
   */
  readonly drainDelayMs?: number;
  /** Runs once the server is drained and closed, e.g. `() => knex.destroy()` (the store's pool). */
  readonly onShutdown?: () => Promise<void> | void;
}

/** What {@link Served.close} resolves with. */
export interface ShutdownResult {
  /** True when every request in flight finished within `shutdownTimeoutMs`. */
  readonly clean: boolean;
  /** Requests still in flight at the deadline, whose connections were destroyed. */
  readonly cut: number;
}

/** A server {@link serve} started. */
export interface Served {
  readonly server: Server;
  /** The port it listens on (the one picked, with `port: 0`). */
  readonly port: number;
  /** True from the moment `close()` was called (answer readiness probes with 503 then). */
  readonly draining: boolean;
  /** Requests being handled right now. */
  readonly inFlight: number;
  /**
   * Graceful shutdown: after `drainDelayMs`, stops accepting connections, lets the requests in flight finish (each
   * answered with `Connection: close`), closes idle keep-alive connections at once and the others
   * as their response ends; at `shutdownTimeoutMs` destroys what is left. Then `onShutdown` runs.
   * Calling it again returns the same promise.
   */
  close(): Promise<ShutdownResult>;
}

const whole = (value: number | undefined, fallback: number, name: string, min = 0): number => {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < min)
    throw new RangeError(`${name} must be a whole number ≥ ${min}, not ${n}.`);
  return n;
};

/**
 * Serves `listener` (an Express app, or `toNodeListener(createPaymentsHandler(…))`) on `node:http`
 * with DoS limits set (header, request and keep-alive timeouts, a connection cap) and a graceful
 * `close()` for SIGTERM. Resolves once it listens.
 *
 * ```ts
 * const served = await serve(app, { port: 3000, shutdownTimeoutMs: 10_000, onShutdown: () => knex.destroy() });
 * process.once("SIGTERM", async () => process.exit((await served.close()).clean ? 0 : 1));
 * ```
 */
export async function serve(listener: RequestListener, options: ServeOptions = {}): Promise<Served> {
  const headersTimeout = whole(options.headersTimeout, 10_000, "headersTimeout", 1);
  const requestTimeout = whole(options.requestTimeout, 300_000, "requestTimeout");
  if (requestTimeout !== 0 && requestTimeout < headersTimeout)
    throw new RangeError(
      `requestTimeout (${requestTimeout}) must be 0 or at least headersTimeout (${headersTimeout}).`,
    );
  const keepAliveTimeout = whole(options.keepAliveTimeout, 5_000, "keepAliveTimeout");
  const maxConnections = whole(options.maxConnections, 1_000, "maxConnections", 1);
  const connectionsCheckingInterval = whole(
    options.connectionsCheckingInterval,
    Math.min(1_000, headersTimeout),
    "connectionsCheckingInterval",
    1,
  );
  const shutdownTimeoutMs = whole(options.shutdownTimeoutMs, 10_000, "shutdownTimeoutMs");
  const drainDelayMs = whole(options.drainDelayMs, 0, "drainDelayMs");

  const active = new Set<ServerResponse>();
  let draining = false;
  const server = createServer(
    { headersTimeout, requestTimeout, connectionsCheckingInterval },
    (req: IncomingMessage, res: ServerResponse) => {
      active.add(res);
      // Past close(): answered, then the connection closes (no next request on it).
      if (draining) res.setHeader("Connection", "close");
      res.once("close", () => {
        active.delete(res);
        if (draining) server.closeIdleConnections();
      });
      listener(req, res);
    },
  );
  server.keepAliveTimeout = keepAliveTimeout;
  server.maxConnections = maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 3000, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });

  let closing: Promise<ShutdownResult> | undefined;
  const close = async (): Promise<ShutdownResult> => {
    draining = true;
    for (const res of active) if (!res.headersSent) res.setHeader("Connection", "close");
    if (drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
    // Node's close() also closes the connections with no request under way, among them any
    // accepted but not read yet: their clients see a reset, and nothing of theirs ran.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const res of active) if (!res.headersSent) res.setHeader("Connection", "close");
    server.closeIdleConnections();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"deadline">((resolve) => {
      timer = setTimeout(() => resolve("deadline"), shutdownTimeoutMs);
    });
    const outcome = await Promise.race([closed.then(() => "closed" as const), deadline]);
    clearTimeout(timer);
    let cut = 0;
    if (outcome === "deadline") {
      cut = active.size;
      server.closeAllConnections();
      await closed;
    }
    await options.onShutdown?.();
    return { clean: cut === 0, cut };
  };
  return {
    server,
    port: (server.address() as AddressInfo).port,
    get draining() {
      return draining;
    },
    get inFlight() {
      return active.size;
    },
    close() {
      closing ??= close();
      return closing;
    },
  };
}
