import type { Server } from "node:net";
import { connect, createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { tcpProxy } from "../../src/testing/tcp-proxy.js";

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

/** A server that answers each connection's first chunk with `<name>:<chunk>` and keeps it open. */
async function echo(name: string): Promise<number> {
  const server = createServer((socket) => {
    socket.on("error", () => undefined);
    socket.once("data", (chunk) => socket.write(`${name}:${chunk}`));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
}

/** A port nobody listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Sends `text` through the proxy: what came back before the connection ended (or "reset"). */
function ask(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let got = "";
    socket.on("connect", () => socket.write(text));
    socket.on("data", (chunk) => {
      got += chunk;
      socket.end();
    });
    socket.on("error", () => resolve(got || "reset"));
    socket.on("close", () => resolve(got || "reset"));
  });
}

describe("tcpProxy", () => {
  it("takes targets in turn and skips one that refuses the connection", async () => {
    const [a, b, dead] = [await echo("a"), await echo("b"), await deadPort()];
    const proxy = await tcpProxy({ targets: [a, dead, b] });
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await ask(proxy.port, "hi"));
    expect(new Set(answers)).toEqual(new Set(["a:hi", "b:hi"]));
    expect(answers.filter((x) => x === "b:hi").length).toBeGreaterThanOrEqual(2);
    await proxy.close();
  });

  it("switchTo resets the connections in flight and sends new ones to the new target; none refuses", async () => {
    const [a, b] = [await echo("a"), await echo("b")];
    const proxy = await tcpProxy({ targets: a });
    const held = connect({ host: "127.0.0.1", port: proxy.port });
    const closed = new Promise((resolve) => held.on("close", resolve).on("error", () => undefined));
    await new Promise((resolve) => held.on("connect", resolve));
    await expect.poll(() => proxy.accepted).toBe(1);
    proxy.switchTo(b);
    await closed;
    expect(await ask(proxy.port, "x")).toBe("b:x");
    proxy.switchTo(undefined);
    expect(await ask(proxy.port, "x")).toBe("reset");
    expect(proxy.cuts).toBe(2);
    await proxy.close();
  });

  it("onClientData cuts a chunk (the server never gets it) or forwards it and cuts (the client never hears)", async () => {
    const seen: string[] = [];
    const server = createServer((socket) => {
      socket.on("error", () => undefined);
      socket.on("data", (chunk) => {
        seen.push(String(chunk));
        socket.write("ack");
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const target = (server.address() as { port: number }).port;
    const proxy = await tcpProxy({
      targets: target,
      onClientData: (chunk) =>
        String(chunk) === "drop" ? "cut" : String(chunk) === "lost" ? "forward-then-cut" : "pass",
    });
    expect(await ask(proxy.port, "ok")).toBe("ack");
    expect(await ask(proxy.port, "drop")).toBe("reset");
    expect(await ask(proxy.port, "lost")).toBe("reset");
    await expect.poll(() => seen).toEqual(["ok", "lost"]);
    expect(proxy.cuts).toBe(2);
    await proxy.cut();
    expect(await ask(proxy.port, "ok")).toBe("reset");
    await proxy.restore();
    expect(await ask(proxy.port, "ok")).toBe("ack");
    await proxy.close();
  });
});
