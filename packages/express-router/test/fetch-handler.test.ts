import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Request as ExpressRequest } from "express";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import type { PaymentsHandler, PaymentsRequest } from "../src/fetch.js";
import { toNodeListener } from "../src/fetch.js";
import type { World, WorldOptions } from "./support/world.js";
import { asBuyer, asSeller, MODES, makeWorld, paymentBody } from "./support/world.js";

// What only the Fetch handler has (called without any server, a URL's scheme, the host's client IP,
// a base path, the node:http bridge), and what each adapter hands the hooks. The rest of the API
// is tested over both the Express router and the Fetch handler by every other file.

let world: World | undefined;
const open = async (options: WorldOptions) => {
  world = await makeWorld("sqlite", options);
  return world;
};
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const handlerOf = (w: World) => w.router as PaymentsHandler;
const post = (url: string, headers: Record<string, string>, body: unknown) =>
  new Request(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

describe("the Fetch handler on its own", () => {
  it("takes a Request and answers a Response, with no server in between", async () => {
    const w = await open({ mode: "fetch" });
    const handler = handlerOf(w);
    const created = await handler(
      post("http://shop.test/v1/payments", { ...asBuyer(), "Idempotency-Key": "direct-1" }, paymentBody()),
    );
    expect(created.status).toBe(201);
    expect(created.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const body = (await created.json()) as { id: string };
    expect(created.headers.get("location")).toBe(`/v1/payments/${body.id}`);
    expect(created.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
    expect(created.headers.get("server-timing")).toMatch(/^app;dur=\d+\.\d$/);
    const read = await handler(
      new Request(`http://shop.test/v1/payments/${body.id}`, { headers: asBuyer() }),
    );
    expect(read.status).toBe(200);
    expect(((await read.json()) as { id: string }).id).toBe(body.id);
    const head = await handler(
      new Request(`http://shop.test/v1/payments/${body.id}`, { method: "HEAD", headers: asBuyer() }),
    );
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    expect(Number(head.headers.get("content-length"))).toBeGreaterThan(100);
    expect(handler.routes).toContainEqual({ method: "POST", path: "/v1/payments" });
  });

  it("gives the hooks a neutral view: method, path, headers, route params and the client IP", async () => {
    const seen: PaymentsRequest[] = [];
    const w = await open({
      mode: "fetch",
      router: {
        // WorldOptions types the hooks for Express; in fetch mode they get the view.
        authenticateSeller: ((req: PaymentsRequest) => {
          seen.push(req);
          return { sellerId: "S1" };
        }) as never,
      },
    });
    const res = await handlerOf(w)(
      post("http://shop.test/v1/sellers/S1/payment-orders/po_x_1/refunds", { "Idempotency-Key": "v-1" }, {}),
      { clientIp: "203.0.113.9" },
    );
    expect(res.status).toBe(404);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: "POST",
      path: "/v1/sellers/S1/payment-orders/po_x_1/refunds",
      params: { sellerId: "S1", id: "po_x_1" },
      ip: "203.0.113.9",
    });
    expect(seen[0]!.headers.get("idempotency-key")).toBe("v-1");
    expect(seen[0]!.request).toBeInstanceOf(Request);
  });

  it("under a longer prefix, or a base path the host strips, Location and the OpenAPI server include it", async () => {
    const w = await open({ mode: "fetch", router: { prefix: "/api/v1" } });
    const created = await handlerOf(w)(
      post("http://shop.test/api/v1/payments", { ...asBuyer(), "Idempotency-Key": "p-1" }, paymentBody()),
    );
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toMatch(/^\/api\/v1\/payments\/[a-z]+_\w+$/);
    const outside = await handlerOf(w)(new Request("http://shop.test/v1/payments/x", { headers: asBuyer() }));
    expect(outside.status).toBe(404);
    await w.close();

    const stripped = await open({ mode: "fetch" });
    const handler = handlerOf(stripped);
    const under = await handler(
      post("http://shop.test/v1/payments", { ...asBuyer(), "Idempotency-Key": "p-2" }, paymentBody()),
      { basePath: "/shop" },
    );
    expect(under.headers.get("location")).toMatch(/^\/shop\/v1\/payments\/[a-z]+_\w+$/);
    const doc = await handler(new Request("http://shop.test/v1/openapi.json"), { basePath: "/shop" });
    expect(((await doc.json()) as { servers: { url: string }[] }).servers).toEqual([{ url: "/shop" }]);
  });

  it("takes HTTPS from the URL's scheme (or context.secure) for requireHttps and HSTS", async () => {
    const w = await open({ mode: "fetch", router: { requireHttps: true } });
    const handler = handlerOf(w);
    const get = (url: string) => new Request(url, { headers: asBuyer() });
    const plain = await handler(get("http://shop.test/v1/payments/pay_x"));
    expect(plain.status).toBe(403);
    expect(((await plain.json()) as { error: { code: string } }).error.code).toBe("https_required");
    expect(plain.headers.get("strict-transport-security")).toBeNull();
    const secure = await handler(get("https://shop.test/v1/payments/pay_x"));
    expect(secure.status).toBe(404);
    expect(secure.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
    // A proxy that terminated TLS: the host says so.
    const proxied = await handler(get("http://shop.test/v1/payments/pay_x"), { secure: true });
    expect(proxied.status).toBe(404);
    expect((await handler(get("https://shop.test/v1/payments/pay_x"), { secure: false })).status).toBe(403);
  });

  it("limits per client IP as the host names it", async () => {
    const w = await open({ mode: "fetch", router: { rateLimit: { perIp: { points: 2, duration: 60 } } } });
    const get = (clientIp: string) =>
      handlerOf(w)(new Request("http://shop.test/v1/payments/x"), { clientIp }).then((r) => r.status);
    expect([await get("198.51.100.1"), await get("198.51.100.1"), await get("198.51.100.1")]).toEqual([
      401, 401, 429,
    ]);
    expect(await get("198.51.100.2")).toBe(401);
  });
});

describe("toNodeListener (the node:http bridge)", () => {
  it("writes status, headers, every Set-Cookie apart, and the body; the peer address is the client IP", async () => {
    let seenIp: string | undefined;
    let seenBody = "";
    const listener = toNodeListener(async (req, context) => {
      seenIp = context?.clientIp;
      seenBody = await req.text();
      const headers = new Headers({ "Content-Type": "text/plain" });
      headers.append("Set-Cookie", "a=1; Path=/");
      headers.append("Set-Cookie", "b=2; Path=/");
      return new Response(`${req.method} ${new URL(req.url).pathname}${new URL(req.url).search}`, {
        status: 418,
        headers,
      });
    });
    const res = await request(listener).post("/x/y?q=1").set("Content-Type", "text/plain").send("hello");
    expect(res.status).toBe(418);
    expect(res.text).toBe("POST /x/y?q=1");
    expect(res.headers["set-cookie"]).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    expect(res.headers["content-length"]).toBe("13");
    expect(seenBody).toBe("hello");
    expect(seenIp).toMatch(/127\.0\.0\.1|::1/);
  });

  it("answers a body over the limit with 413 and keeps the connection's answer readable", async () => {
    const w = await open({ mode: "fetch", router: { bodyLimit: 1024 } });
    const server = createServer(w.app as ReturnType<typeof toNodeListener>).listen(0);
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const res = await fetch(`${base}/v1/payments`, {
        method: "POST",
        headers: { ...asBuyer(), "Idempotency-Key": "big", "Content-Type": "application/json" },
        body: JSON.stringify(paymentBody({ metadata: { note: "x".repeat(256 * 1024) } })),
      });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("payload_too_large");
      // The server still answers on.
      expect((await fetch(`${base}/v1/payments/x`, { headers: asBuyer() })).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("what the Express router hands the hooks", () => {
  it("Express's own req, with req.params of the matched route", async () => {
    const seen: { params: Record<string, unknown>; auth: string | undefined }[] = [];
    const w = await open({
      mode: "express",
      router: {
        authenticateSeller(req: ExpressRequest) {
          seen.push({ params: { ...req.params }, auth: req.get("Authorization") });
          return { sellerId: "S1" };
        },
      },
    });
    const res = await request(w.app)
      .post("/v1/sellers/S1/payment-orders/po_x_1/refunds")
      .set(asSeller("S1"))
      .set("Idempotency-Key", "e-1")
      .send({});
    expect(res.status).toBe(404);
    expect(seen).toEqual([{ params: { sellerId: "S1", id: "po_x_1" }, auth: "Bearer seller:S1" }]);
  });
});

describe.each(MODES)("a method the Fetch API forbids over %s", (mode) => {
  it("TRACE answers 405 with Allow, as any method a path does not have", async () => {
    const w = await open({ mode });
    const res = await request(w.app).trace("/v1/payments/pay_x").set(asBuyer());
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe("GET, HEAD, OPTIONS");
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.body.error).toMatchObject({
      code: "method_not_allowed",
      message: "TRACE is not allowed here; use GET, HEAD, OPTIONS.",
    });
  });
});
