import { once } from "node:events";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** A node:http server on an ephemeral port of 127.0.0.1. */
export interface RunningServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly origin: string;
  close(): Promise<void>;
}

export async function startServer(listener: RequestListener): Promise<RunningServer> {
  const server = createServer(listener);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

/** One webhook POST as the receiver got it. */
export interface ReceivedRequest {
  readonly rawBody: string;
  readonly headers: Record<string, string>;
  /** The status the receiver answered with. */
  readonly status: number;
}

/**
 * A webhook endpoint for tests: records every POST (raw body, headers) and answers with the
 * next scripted status (default 200). `nextRequest()` resolves on arrival, so tests wait on
 * events, never on sleeps.
 */
export interface WebhookReceiver {
  readonly url: string;
  readonly requests: ReceivedRequest[];
  /** Statuses for the next requests, in order; 200 once they run out. */
  respondWith(...statuses: number[]): void;
  /** Resolves once `count` requests in total have arrived (and been answered). */
  received(count: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startReceiver(): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const script: number[] = [];
  const waiters: { count: number; resolve: (r: ReceivedRequest[]) => void }[] = [];
  const wake = () => {
    for (const waiter of waiters.filter((w) => requests.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve([...requests]);
    }
  };
  const server = await startServer((req: IncomingMessage, res: ServerResponse) => {
    void readAll(req).then((rawBody) => {
      const status = script.shift() ?? 200;
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string") headers[name] = value;
      }
      requests.push({ rawBody, headers, status });
      res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "nope", wake);
    });
  });
  return {
    url: `${server.origin}/webhooks/sandbox`,
    requests,
    respondWith: (...statuses) => void script.push(...statuses),
    received: (count) =>
      new Promise((resolve) => {
        waiters.push({ count, resolve });
        wake();
      }),
    close: () => server.close(),
  };
}
