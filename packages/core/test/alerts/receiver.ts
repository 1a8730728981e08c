import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
  /** What the receiver answered (undefined: it hung). */
  status?: number;
}

/**
 * An operator's alert endpoint on loopback: records every request and answers with what
 * `respond` says (default 200). `hang` keeps requests open until the server closes.
 */
export async function loopbackReceiver() {
  const requests: ReceivedRequest[] = [];
  let respond: (request: ReceivedRequest) => number | "hang" = () => 200;
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const received: ReceivedRequest = {
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(received);
      const answer = respond(received);
      if (answer === "hang") {
        hanging.add(res);
        return;
      }
      received.status = answer;
      res.writeHead(answer, { "content-type": "text/plain" }).end(answer < 300 ? "ok" : "no");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/settlekit/alerts`,
    requests,
    answer(fn: (request: ReceivedRequest) => number | "hang") {
      respond = fn;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
