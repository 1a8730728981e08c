import { Redis } from "ioredis";
import request from "supertest";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { World, WorldOptions } from "./support/world.js";
import { asBuyer, MODES, makeWorld } from "./support/world.js";

const REDIS_URL = process.env.SETTLEKIT_REDIS_URL ?? "redis://127.0.0.1:6379";

describe.each(MODES)("HTTPS, rate limits over %s", (mode) => {
  let world: World | undefined;
  const open = async (options: WorldOptions) => {
    world = await makeWorld("sqlite", { mode, ...options });
    return world;
  };
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it("requireHttps refuses plain HTTP and ignores X-Forwarded-Proto unless proxies are trusted", async () => {
    const w = await open({ router: { requireHttps: true } });
    const plain = await request(w.app).get("/v1/payments/pay_x").set(asBuyer());
    expect(plain.status).toBe(403);
    expect(plain.body.error).toMatchObject({ type: "permission_error", code: "https_required" });
    expect(plain.headers["strict-transport-security"]).toBeUndefined();
    const spoofed = await request(w.app)
      .get("/v1/payments/pay_x")
      .set(asBuyer())
      .set("X-Forwarded-Proto", "https");
    expect(spoofed.status).toBe(403);
  });

  // `trustProxy` is Express's setting; the Fetch handler's equivalent is in fetch-handler.test.ts.
  if (mode === "express") {
    it("behind a trusted proxy, X-Forwarded-Proto: https passes and gets HSTS", async () => {
      const w = await open({ router: { requireHttps: true, trustProxy: "loopback" } });
      const res = await request(w.app)
        .get("/v1/payments/pay_x")
        .set(asBuyer())
        .set("X-Forwarded-Proto", "https");
      expect(res.status).toBe(404);
      expect(res.headers["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains");
      expect((await request(w.app).get("/v1/payments/pay_x").set(asBuyer())).status).toBe(403);
    });
  }

  it("in memory: a buyer's budget runs out with 429 and Retry-After; another buyer is unaffected", async () => {
    const w = await open({ router: { rateLimit: { perBuyer: { points: 2, duration: 60 } } } });
    const get = (buyer: string) => request(w.app).get("/v1/payments/pay_x").set(asBuyer(buyer));
    expect((await get("B1")).status).toBe(404);
    expect((await get("B1")).status).toBe(404);
    const limited = await get("B1");
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limited" });
    expect(Number(limited.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect((await get("B2")).status).toBe(404);
  });

  it("per IP, before authentication", async () => {
    const w = await open({ router: { rateLimit: { perIp: { points: 3, duration: 60 } } } });
    for (let i = 0; i < 3; i++) expect((await request(w.app).get("/v1/payments/x")).status).toBe(401);
    expect((await request(w.app).get("/v1/payments/x").set(asBuyer())).status).toBe(429);
  });

  describe("on Redis", () => {
    let redis: Redis;
    beforeAll(async () => {
      redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
      // Fails (never skips) when Redis is not running.
      await redis.connect();
      expect(await redis.ping()).toBe("PONG");
    });
    afterAll(async () => {
      redis?.disconnect();
    });

    it("two router instances share one budget", async () => {
      const keyPrefix = `settlekit:test:${Date.now()}:${Math.random()}`;
      const options: WorldOptions = {
        router: { rateLimit: { redis, keyPrefix, perBuyer: { points: 3, duration: 60 } } },
      };
      const a = await open(options);
      const b = await makeWorld("sqlite", { mode, ...options });
      try {
        const get = (w: World) => request(w.app).get("/v1/payments/pay_x").set(asBuyer("B-redis"));
        expect((await get(a)).status).toBe(404);
        expect((await get(b)).status).toBe(404);
        expect((await get(a)).status).toBe(404);
        const limited = await get(b);
        expect(limited.status).toBe(429);
        expect(limited.headers["retry-after"]).toMatch(/^\d+$/);
        expect(Number(await redis.get(`${keyPrefix}:buyer:B-redis`))).toBe(4);
      } finally {
        await b.close();
        const keys = await redis.keys(`${keyPrefix}:*`);
        if (keys.length) await redis.del(...keys);
      }
    });
  });
});
