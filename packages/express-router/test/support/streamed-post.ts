import type { ClientRequest, RequestListener } from "node:http";
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";

/**
 * POSTs to `app` over a real loopback socket — what an upload test needs to send a body chunk by
 * chunk and see the server answer while (or after) it is still being sent — and collects the
 * answer. `send` writes the body (and ends the request); a failure in it fails the call. The
 * server is closed afterwards, whatever happened.
 */
export async function streamedPost(
  app: Express | RequestListener,
  target: { readonly path: string; readonly headers: Readonly<Record<string, string>> },
  send: (req: ClientRequest) => void | Promise<void>,
): Promise<{ status: number; body: string }> {
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        { host: "127.0.0.1", port, method: "POST", path: target.path, headers: { ...target.headers } },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (body += chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      Promise.resolve()
        .then(() => send(req))
        .catch(reject);
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
