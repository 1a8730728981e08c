import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import type { IncomingMessage } from "node:http";
import { Agent, request as httpRequest } from "node:http";
import type { Socket } from "node:net";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { Served } from "../src/serve.js";
import { serve } from "../src/serve.js";

const child = fileURLToPath(new URL("./fixtures/serve-child.mjs", import.meta.url));
const running: ChildProcess[] = [];
const servers: Served[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
  for (const s of servers.splice(0)) await s.close();
});

/** The host process: resolves once it listens; `seen(n)` once it has received n requests. */
async function host(shutdownTimeoutMs: number, keepAliveTimeout = 5_000) {
  const proc = spawn(process.execPath, [child, String(shutdownTimeoutMs), String(keepAliveTimeout)]);
  running.push(proc);
  let out = "";
  const waiters: { test: () => boolean; resolve: () => void }[] = [];
  proc.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of waiters.splice(0))
      if (w.test()) w.resolve();
      else waiters.push(w);
  });
  proc.stderr.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  const when = (test: () => boolean) =>
    new Promise<void>((resolve) => (test() ? resolve() : waiters.push({ test, resolve })));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  await when(() => /listening \d+/.test(out));
  const port = Number(/listening (\d+)/.exec(out)![1]);
  return {
    proc,
    port,
    exited,
    output: () => out,
    seen: (n: number) => when(() => (out.match(/^request /gm) ?? []).length >= n),
  };
}

interface Answer {
  readonly status?: number;
  readonly connection?: string;
  readonly body?: string;
  readonly error?: string;
}

function get(port: number, path: string, agent?: Agent): Promise<Answer> {
  return new Promise((resolve) => {
    const req = httpRequest(
      { host: "127.0.0.1", port, path, ...(agent ? { agent } : {}) },
      (res: IncomingMessage) => {
        let body = "";
        res.on("data", (c: Buffer) => {
          body += c.toString();
        });
        res.on("end", () => {
          const connection = res.headers.connection;
          resolve({ status: res.statusCode ?? 0, body, ...(connection ? { connection } : {}) });
        });
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.end();
  });
}

describe("serve(): graceful shutdown of a host process on SIGTERM", () => {
  it("finishes the requests in flight (Connection: close), refuses new connections, runs onShutdown, exits 0", async () => {
    const h = await host(10_000);
    const agent = new Agent({ keepAlive: true, maxSockets: 10 });
    const inFlight = Array.from({ length: 5 }, (_, i) => get(h.port, `/slow?ms=800&n=${i}`, agent));
    await h.seen(5);
    h.proc.kill("SIGTERM");
    await new Promise<void>((resolve) => {
      const check = () => (h.output().includes("SIGTERM") ? resolve() : setTimeout(check, 10));
      check();
    });
    const late = await get(h.port, "/slow?ms=0"); // a new connection once it stopped listening
    expect(late.error).toBe("ECONNREFUSED");
    const answers = await Promise.all(inFlight);
    for (const a of answers)
      expect(a).toEqual({ status: 200, body: "done after 800 ms", connection: "close" });
    expect(await h.exited, h.output()).toBe(0);
    expect(h.output()).toContain("store closed");
    expect(h.output()).toContain('{"clean":true,"cut":0}');
    agent.destroy();
  });

  it("does not wait for idle keep-alive connections", async () => {
    const h = await host(10_000, 60_000);
    const agent = new Agent({ keepAlive: true });
    expect(await get(h.port, "/slow?ms=0", agent)).toMatchObject({ status: 200 });
    const signalled = Date.now();
    h.proc.kill("SIGTERM"); // the agent's socket is idle, kept alive for up to 60 s
    expect(await h.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(5_000);
    agent.destroy();
  });

  it("at shutdownTimeoutMs destroys what is still running and exits non-zero", async () => {
    const h = await host(300);
    const stuck = get(h.port, "/slow?ms=30000");
    await h.seen(1);
    h.proc.kill("SIGTERM");
    expect((await stuck).error).toBe("ECONNRESET");
    expect(await h.exited).toBe(1);
    expect(h.output()).toContain('{"clean":false,"cut":1}');
    expect(h.output()).toContain("store closed");
  });
});

/** Resolves once the server closes `socket`, with what it sent first. */
const closedWith = (socket: Socket) =>
  new Promise<string>((resolve) => {
    let got = "";
    socket.on("data", (c: Buffer) => {
      got += c.toString();
    });
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(got));
  });

describe("serve(): limits", () => {
  it("cuts a connection that sends its headers too slowly with 408", async () => {
    const served = await serve((_req, res) => res.end("ok"), {
      port: 0,
      host: "127.0.0.1",
      headersTimeout: 300,
    });
    servers.push(served);
    const socket = connect(served.port, "127.0.0.1");
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n"); // …and never the rest
    const started = Date.now();
    expect(await closedWith(socket)).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("closes connections past maxConnections at once and serves the rest", async () => {
    const served = await serve((_req, res) => res.end("ok"), {
      port: 0,
      host: "127.0.0.1",
      maxConnections: 3,
    });
    servers.push(served);
    let accepted = 0;
    const allAccepted = new Promise<void>((resolve) =>
      served.server.on("connection", () => {
        if (++accepted === 3) resolve();
      }),
    );
    const held = [0, 1, 2].map(() => connect(served.port, "127.0.0.1"));
    await allAccepted;
    const extra = connect(served.port, "127.0.0.1");
    expect(await closedWith(extra)).toBe("");
    held[0]!.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(await closedWith(held[0]!)).toMatch(/^HTTP\/1\.1 200[\s\S]*ok$/);
    for (const s of held) s.destroy();
  });

  it("drainDelayMs keeps serving (Connection: close, draining) before it stops listening", async () => {
    const served = await serve((_req, res) => res.end("ok"), {
      port: 0,
      host: "127.0.0.1",
      drainDelayMs: 300,
    });
    const closing = served.close();
    expect(served.draining).toBe(true);
    expect(await get(served.port, "/")).toEqual({ status: 200, body: "ok", connection: "close" });
    expect(await closing).toEqual({ clean: true, cut: 0 });
    expect((await get(served.port, "/")).error).toBe("ECONNREFUSED");
  });

  it("refuses a requestTimeout shorter than headersTimeout", async () => {
    await expect(
      serve(() => undefined, { port: 0, headersTimeout: 5_000, requestTimeout: 1_000 }),
    ).rejects.toThrow(/requestTimeout/);
  });
});
