import type { Server } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { SandboxOptions } from "../options.js";
import { sandboxProvider } from "../sandbox-provider.js";
import type { SandboxProvider } from "../types.js";
import { handleApiCall } from "./api.js";

export interface SandboxServerOptions extends Omit<SandboxOptions, "baseUrl"> {
  /** Default 0 (a free port). */
  readonly port?: number;
  /** Default `127.0.0.1`: the sandbox is a test tool, not something to expose. */
  readonly host?: string;
  /** The URL buyers reach this server at (default `http://<host>:<port>`). */
  readonly publicUrl?: string;
}

export interface SandboxServer {
  /** `http://127.0.0.1:<port>`: hand it to `remoteSandboxProvider({ url })`. */
  readonly url: string;
  readonly port: number;
  /** The sandbox this server holds (its state lives in this process). */
  readonly sandbox: SandboxProvider;
  readonly server: Server;
  /** Stops the sandbox's timers, waits for deliveries in flight, closes the server. */
  close(): Promise<void>;
}

/**
 * Serves a sandbox PSP on its own: the hosted page (`/pay/:ref`), the settlement file
 * (`/settlement/:date.csv`) and the API `remoteSandboxProvider` calls (`POST /api/<call>`). Its
 * webhooks go to `webhookUrl`. What `npx settlekit-sandbox` runs.
 */
export async function startSandboxServer(options: SandboxServerOptions): Promise<SandboxServer> {
  const host = options.host ?? "127.0.0.1";
  let sandbox: SandboxProvider | undefined;
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://sandbox.invalid").pathname;
    const api = /^\/api\/([A-Za-z.]+)$/.exec(path);
    if (!sandbox) {
      res.writeHead(503).end();
      return;
    }
    if (api) {
      handleApiCall(sandbox, api[1]!, req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
      return;
    }
    sandbox.handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = (options.publicUrl ?? `http://${host}:${port}`).replace(/\/+$/, "");
  const { port: _port, host: _host, publicUrl: _publicUrl, ...sandboxOptions } = options;
  sandbox = sandboxProvider({ ...sandboxOptions, baseUrl: url });
  const own = sandbox;
  return {
    url,
    port,
    sandbox: own,
    server,
    async close() {
      await own.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
