import type { Server } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dialect, World } from "./world.js";
import { MODES, makeWorld, paymentBody, referenceOf } from "./world.js";

/** Text no store can keep as given: NUL, and UTF-16 surrogates without their pair. */
const unstorable = fc
  .tuple(
    fc.string({ maxLength: 4 }),
    fc.constantFrom("\u0000", "\ud800", "\udbff", "\udc00", "\udfff", "\udc00\ud800"),
    fc.string({ maxLength: 4 }),
  )
  .map(([a, bad, b]) => `${a}${bad}${b}`);

/** A valid payment with unstorable text in one metadata key or value, or a description. */
const unstorablePayment = fc
  .tuple(unstorable, fc.constantFrom("key", "value", "order key", "order value", "description"))
  .map(([bad, where]) => {
    const metadata = where.endsWith("key") ? { [bad]: "v" } : { k: bad };
    if (where.startsWith("order") || where === "description") {
      const order = where === "description" ? { description: bad } : { metadata };
      return paymentBody({ orders: [{ seller_id: "S1", amount: 100, ...order }] });
    }
    return paymentBody({ metadata });
  });

/** Byte sequences that are not UTF-8: over-long forms, encoded surrogates, bytes never used. */
const NOT_UTF8 = [
  [0xc0, 0xaf],
  [0xc1, 0xbf],
  [0xe0, 0x80, 0xaf],
  [0xf0, 0x80, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xff],
  [0x80],
];

/** Puts `insert` just after the `"` at or after `at`: inside a key or a string value. */
function intoString(json: string, insert: Buffer, at: number): Buffer {
  const quote = json.indexOf('"', at % Math.max(json.length, 1));
  const cut = quote < 0 ? json.length : quote + 1;
  return Buffer.concat([Buffer.from(json.slice(0, cut)), insert, Buffer.from(json.slice(cut))]);
}

/** A valid payment's JSON with raw invalid UTF-8 bytes, or a `\u0000` / `\ud800` escape, in a string. */
const corruptedPayment = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(...NOT_UTF8).map((bytes) => Buffer.from(bytes)),
      fc.constantFrom("\\u0000", "\\ud800", "\\udfff", "x\\u0000y").map((text) => Buffer.from(text)),
    ),
    fc.nat(),
  )
  .map(([insert, at]) => intoString(JSON.stringify(paymentBody()), insert, at));

/** Amounts that can never be valid. */
const badAmount = fc.constantFrom<unknown>(
  0,
  -1,
  1.5,
  "1.50",
  "abc",
  "",
  " 1",
  "0x10",
  1e30,
  "1e3",
  null,
  true,
  [],
  {},
  2 ** 53,
);

/** One mutation that makes a valid `POST /payments` body invalid, whatever else is random. */
const brokenPayment: fc.Arbitrary<unknown> = fc.oneof(
  badAmount.map((amount) => paymentBody({ orders: [{ seller_id: "S1", amount }] })),
  fc.constantFrom("currency", "method", "orders", "success_url", "cancel_url").map((key) => {
    const body: Record<string, unknown> = paymentBody();
    delete body[key];
    return body;
  }),
  fc.string({ minLength: 1, maxLength: 12 }).map((key) => ({ ...paymentBody(), [`x_${key}`]: 1 })),
  fc
    .oneof(fc.string({ maxLength: 5 }), fc.constantFrom("XAU", "usd", "ZZZ", 840))
    .map((currency) => paymentBody({ currency })),
  fc
    .constantFrom<unknown>(
      [],
      Array.from({ length: 101 }, (_, i) => ({ seller_id: `S${i}`, amount: 1 })),
    )
    .map((orders) => paymentBody({ orders })),
  fc.constant(
    paymentBody({
      orders: [
        { seller_id: "S1", amount: 1 },
        { seller_id: "S1", amount: 2 },
      ],
    }),
  ),
  fc
    .string({ unit: "binary", minLength: 1, maxLength: 20 })
    .map((s) => paymentBody({ success_url: `nope:${s}` })),
  fc.constantFrom(
    JSON.parse('{"__proto__":{"admin":true}}'),
    paymentBody({ metadata: { constructor: "x" } }),
    paymentBody({ metadata: { note: "4242-4242-4242-4242" } }),
    paymentBody({ metadata: { cvc: "123" } }),
    paymentBody({ metadata: { note: "\ud800" } }),
    paymentBody({ metadata: { "k\u0000": "v" } }),
    paymentBody({ metadata: { "\ud800x": "v" } }),
    paymentBody({ orders: [{ seller_id: "S1", amount: 1, currency: "EUR" }] }),
    paymentBody({ orders: [{ seller_id: "S1", amount: 12.34 }] }),
  ),
  { weight: 3, arbitrary: unstorablePayment },
  fc.jsonValue(),
  fc.anything(),
);

/** A raw body: JSON of a (broken) value, random text, or random bytes. */
const rawBody = (value: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 6, arbitrary: value.map((v) => JSON.stringify(v) ?? "null") },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: value.map((v) => (JSON.stringify(v) ?? "").slice(0, -1)) },
  );

const idSegment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
  fc.string({ unit: "binary", maxLength: 30 }).map(encodeURIComponent),
  fc.constantFrom("%00", "..%2F..", "%E0%A4%A", "x".repeat(300), "__proto__", "constructor"),
);

const headers = fc.record({
  auth: fc.constantFrom<string | undefined>(
    "Bearer buyer:B1",
    "Bearer buyer:B2",
    "Bearer operator",
    "Bearer seller:S1",
    "Bearer seller:S2",
    "Bearer junk",
    "",
    undefined,
  ),
  contentType: fc.constantFrom<string | undefined>(
    "application/json",
    "text/plain",
    "application/json; charset=utf-8",
    "junk",
    undefined,
  ),
  key: fc.oneof(
    fc.stringMatching(/^[\x21-\x7e]{1,40}$/),
    fc.constant("k".repeat(256)),
    fc.constant(undefined),
  ),
});

/** A body that asks for a full refund of a single order (random bytes may spell it): valid. */
const EMPTY_OBJECT = /^\s*(\{\s*\})?\s*$/;

type Fuzz = { method: string; path: string; body?: string | Buffer };

/**
 * 10 000 malformed requests on `dialect`, over each mode: each answers a typed 4xx and nothing is stored. One
 * file per dialect (`fuzz.<dialect>.test.ts`), so that the two run in parallel.
 */
export const fuzzRouter = (dialect: Dialect) =>
  describe.each(MODES)(`fuzz: 10 000 malformed requests on ${dialect} over %s`, (mode) => {
    let world: World;
    let server: Server;
    let base: string;
    let paidId: string;
    let paidOrderId: string;
    beforeAll(async () => {
      world = await makeWorld(dialect, { mode });
      const created = await request(world.app)
        .post("/v1/payments")
        .set("Authorization", "Bearer buyer:B1")
        .set("Idempotency-Key", "seed")
        .send(paymentBody());
      paidId = created.body.id;
      paidOrderId = created.body.orders[0].id;
      await world.sandbox.pay(referenceOf(created.body));
      for (const event of world.sandbox.events()) {
        await request(world.app).post("/v1/webhooks/sandbox").set(event.headers).send(event.rawBody);
      }
      server = createServer(world.app).listen(0);
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise((resolve) => server?.close(resolve));
      await world?.close();
    });

    it("answers every one with a typed 4xx JSON error and stores nothing", async () => {
      const target: fc.Arbitrary<Fuzz> = fc.oneof(
        rawBody(brokenPayment).map((body) => ({ method: "POST", path: "/v1/payments", body })),
        idSegment.map((id) => ({ method: "GET", path: `/v1/payments/${id}` })),
        fc.tuple(idSegment, fc.string({ maxLength: 30 })).map(([id, q]) => ({
          method: "GET",
          path: `/v1/payments/${id}/events?${encodeURIComponent(q)}=${q.length}&limit=${q}x`,
        })),
        {
          weight: 2,
          arbitrary: corruptedPayment.map((body) => ({ method: "POST", path: "/v1/payments", body })),
        },
        // On an unknown id anything goes; on the paid payment, only bodies that cannot be valid
        // (without authorizeRefund, a buyer's refund is refused whatever it holds).
        fc.tuple(idSegment, rawBody(fc.jsonValue())).map(([id, body]) => ({
          method: "POST",
          path: `/v1/payments/x${id}/refunds`,
          body,
        })),
        fc.tuple(idSegment, rawBody(fc.jsonValue())).map(([id, body]) => ({
          method: "POST",
          path: `/v1/operator/payments/x${id}/refunds`,
          body,
        })),
        fc
          .tuple(fc.constantFrom("S1", "S2", "x"), idSegment, rawBody(fc.jsonValue()))
          .map(([seller, id, body]) => ({
            method: "POST",
            path: `/v1/sellers/${seller}/payment-orders/x${id}/refunds`,
            body,
          })),
        fc
          .tuple(
            fc.constantFrom(
              () => `/v1/payments/${paidId}/refunds`,
              () => `/v1/operator/payments/${paidId}/refunds`,
              () => `/v1/sellers/S1/payment-orders/${paidOrderId}/refunds`,
            ),
            rawBody(
              fc.oneof(
                badAmount.map((amount) => ({ amount })),
                fc.string().map((k) => ({ [`x${k}`]: 1 })),
                unstorable.map((reason) => ({ reason })),
                unstorable.map((k) => ({ [k]: 1 })),
              ),
            ).filter((body) => !EMPTY_OBJECT.test(String(body))),
          )
          .map(([path, body]) => ({ method: "POST", path: path(), body })),
        fc.tuple(fc.stringMatching(/^[a-z]{1,10}$/), rawBody(fc.jsonValue())).map(([psp, body]) => ({
          method: "POST",
          path: `/v1/webhooks/${psp}`,
          body,
        })),
        fc.string({ maxLength: 20 }).map((q) => ({
          method: "GET",
          path: `/v1/operator/payments?unknown_${encodeURIComponent(q)}=1`,
        })),
        idSegment.map((id) => ({ method: "POST", path: `/v1/operator/dead-letters/${id}/replay` })),
        fc
          .tuple(fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH"), fc.webPath())
          .map(([method, path]) => ({
            method,
            path: `/v1/zz${path}`,
          })),
      );
      const before = await world.rowCounts();
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(target, headers, async (req, h) => {
          const res = await fetch(`${base}${req.path}`, {
            method: req.method,
            headers: {
              ...(h.auth !== undefined ? { Authorization: h.auth } : {}),
              ...(h.contentType !== undefined ? { "Content-Type": h.contentType } : {}),
              ...(h.key !== undefined ? { "Idempotency-Key": h.key } : {}),
            },
            ...(req.body !== undefined ? { body: req.body } : {}),
          });
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          expect(res.status, `${req.method} ${req.path} → ${text}`).toBeGreaterThanOrEqual(400);
          expect(res.status, `${req.method} ${req.path} → ${text}`).toBeLessThan(500);
          expect(res.headers.get("content-type")).toMatch(/^application\/json/);
          const { error } = JSON.parse(text);
          expect(error).toMatchObject({
            type: expect.any(String),
            code: expect.stringMatching(/^[a-z_]+$/),
            message: expect.any(String),
            request_id: res.headers.get("x-request-id"),
          });
        }),
        { numRuns: 10_000 },
      );
      expect(await world.rowCounts()).toEqual(before);
      // The generators reach far: most statuses show up.
      expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([400, 401, 403, 404, 415]));
    }, 300_000);
  });
