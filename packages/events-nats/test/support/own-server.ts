import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { natsUp } from "./nats.js";

const BINARY =
  process.env.NATS_SERVER_BIN ??
  (existsSync("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "nats-server");

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * A nats-server of the test's own (never the machine's), with JetStream on a temp store folder,
 * that the test can stop and start again on the same port and folder.
 */
export interface OwnServer {
  readonly url: string;
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops it and removes its store folder. */
  destroy(): Promise<void>;
}

export async function ownServer(): Promise<OwnServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "settlekit-nats-"));
  const url = `nats://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = "";
  const server: OwnServer = {
    url,
    port,
    async start() {
      if (child) return;
      output = "";
      const started = spawn(BINARY, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = started;
      started.stdout?.on("data", (chunk) => {
        output += String(chunk);
      });
      started.stderr?.on("data", (chunk) => {
        output += String(chunk);
      });
      const until = Date.now() + 15_000;
      while (!(await natsUp(url))) {
        if (started.exitCode !== null || Date.now() > until) {
          child = undefined;
          throw new Error(`nats-server on port ${port} did not start (exit ${started.exitCode}):\n${output}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      const running = child;
      if (!running) return;
      child = undefined;
      if (running.exitCode === null) {
        const exited = new Promise((resolve) => running.once("exit", resolve));
        running.kill("SIGTERM");
        await exited;
      }
    },
    async destroy() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
