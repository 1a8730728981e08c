import type { Server, Socket } from "node:net";
import { connect, createServer } from "node:net";
import { Writable } from "node:stream";
import { Redis } from "ioredis";
import { pino } from "pino";
import request from "supertest";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { World } from "./support/world.js";
import { asBuyer, makeWorld, paymentBody } from "./support/world.js";

const REDIS = new URL(process.env.SETTLEKIT_REDIS_URL ?? "redis://127.0.0.1:6379");

/** A TCP proxy to the real Redis that the test can cut (sockets destroyed, port refused) and restore. */
async function redisProxy() {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const open = async () => {
    server = createServer((client) => {
      const upstream = connect(Number(REDIS.port || 6379), REDIS.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
        s.on("error", () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  };
  await open();
  return {
    url: () => `redis://127.0.0.1:${port}`,
    async cut() {
      await new Promise<void>((resolve) => {
        server!.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
    open,
  };
}

/** Resolves once `client` is connected (a client without an offline queue cannot be pinged before). */
const ready = (client: Redis) =>
  client.status === "ready"
    ? Promise.resolve()
    : new Promise<void>((resolve) => client.once("ready", () => resolve()));

/** Retries `probe` every 50 ms until it is true (at most 5 s). */
async function until(probe: () => Promise<boolean>): Promise<void> {
  const started = Date.now();
  while (!(await probe())) {
    if (Date.now() - started > 5_000) throw new Error("not within 5 s");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A pino logger whose lines the test reads. */
function capturedLogger() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: pino({ level: "info" }, stream) };
}

describe("rate limits when Redis goes down (a real Redis behind a proxy the test cuts)", () => {
  let world: World | undefined;
  let redis: Redis | undefined;
  beforeAll(async () => {
    // Fails (never skips) when Redis is not running.
    const probe = new Redis(REDIS.href, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await probe.connect();
    expect(await probe.ping()).toBe("PONG");
    probe.disconnect();
  });
  afterEach(async () => {
    redis?.disconnect();
    redis = undefined;
    await world?.close();
    world = undefined;
  });

  const pay = (w: World, key: string, buyer = "B-rl") =>
    request(w.app).post("/v1/payments").set(asBuyer(buyer)).set("Idempotency-Key", key).send(paymentBody());

  it("failOpen (default): payments keep flowing on a per-process budget, with one warning; shared again after", async () => {
    const proxy = await redisProxy();
    // A host's ordinary client: offline queue on, so a command waits while Redis is away — the
    // limiter's timeout is what keeps a request from hanging.
    redis = new Redis(proxy.url(), { retryStrategy: () => 50 });
    redis.on("error", () => undefined);
    const keyPrefix = `settlekit:test:down:${Date.now()}:${Math.random()}`;
    const { lines, logger } = capturedLogger();
    world = await makeWorld("sqlite", {
      router: {
        rateLimit: { redis, keyPrefix, perBuyer: { points: 5, duration: 60 }, redisTimeoutMs: 200 },
        logger,
      },
    });
    expect((await pay(world, "up-1")).status).toBe(201);
    expect(Number(await new Redis(REDIS.href).get(`${keyPrefix}:buyer:B-rl`))).toBe(1);

    await proxy.cut();
    const started = Date.now();
    for (let i = 0; i < 3; i++) expect((await pay(world, `down-${i}`)).status).toBe(201);
    expect(Date.now() - started).toBeLessThan(5_000); // bounded by the timeout, not by Redis coming back
    // Still limited while Redis is away: the in-memory budget (5) runs out.
    expect((await pay(world, "down-3")).status).toBe(201);
    expect((await pay(world, "down-4")).status).toBe(201);
    const limited = await pay(world, "down-5");
    expect(limited.status).toBe(429);
    expect(limited.headers["retry-after"]).toMatch(/^\d+$/);
    const warnings = lines.filter((l) => l.level === 40 && /Redis is unreachable/.test(l.msg));
    expect(warnings).toHaveLength(1); // once per outage, not per request
    expect(warnings[0]!.msg).toMatch(/limiting per process in memory/);

    await proxy.open();
    await redis.ping(); // reconnected; the limiter tries Redis again within a second
    let probes = 0;
    await until(async () => {
      expect((await pay(world!, `probe-${probes}`, `B-rl-probe-${probes++}`)).status).toBe(201);
      return lines.some((l) => l.level === 30 && /Redis answers again/.test(l.msg));
    });
    expect((await pay(world, "back-1", "B-rl-2")).status).toBe(201);
    const direct = new Redis(REDIS.href);
    expect(Number(await direct.get(`${keyPrefix}:buyer:B-rl-2`))).toBe(1);
    const keys = await direct.keys(`${keyPrefix}:*`);
    if (keys.length) await direct.del(...keys);
    direct.disconnect();
  });

  it("failOpen: false answers 503 rate_limit_unavailable with Retry-After, writes nothing, and recovers", async () => {
    const proxy = await redisProxy();
    redis = new Redis(proxy.url(), {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 50,
    });
    redis.on("error", () => undefined);
    await ready(redis);
    const { lines, logger } = capturedLogger();
    world = await makeWorld("sqlite", {
      router: {
        rateLimit: { redis, keyPrefix: `settlekit:test:closed:${Date.now()}`, failOpen: false },
        logger,
      },
    });
    expect((await pay(world, "up")).status).toBe(201);
    await proxy.cut();
    const before = await world.rowCounts();
    const refused = await pay(world, "down");
    expect(refused.status).toBe(503);
    expect(refused.headers["retry-after"]).toBe("1");
    expect(refused.body.error).toMatchObject({ type: "api_error", code: "rate_limit_unavailable" });
    // Refused without waiting on Redis again (it is tried again once a second), and logged once.
    expect((await pay(world, "down")).status).toBe(503);
    expect(await world.rowCounts()).toEqual(before);
    expect(lines.filter((l) => /refusing requests with 503/.test(l.msg))).toHaveLength(1);
    await proxy.open();
    await ready(redis);
    // The same key, once Redis is back.
    await until(async () => (await pay(world!, "down")).status === 201);
  });

  it("a Redis on a closed port from the start: fail-open serves, fail-closed refuses", async () => {
    const closed = await redisProxy();
    await closed.cut(); // nothing listens on its port any more
    redis = new Redis(closed.url(), {
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => 1_000,
    });
    redis.on("error", () => undefined);
    world = await makeWorld("sqlite", { router: { rateLimit: { redis, failOpen: true }, logger: false } });
    expect((await pay(world, "open")).status).toBe(201);
    await world.close();
    world = await makeWorld("sqlite", { router: { rateLimit: { redis, failOpen: false }, logger: false } });
    expect((await pay(world, "closed")).status).toBe(503);
  });
});
