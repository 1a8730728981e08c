import { Writable } from "node:stream";
import { SettlekitError } from "@settlekit/core";
import { pino } from "pino";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { World } from "./support/world.js";
import { asBuyer, MATRIX, makeWorld, paymentBody } from "./support/world.js";

const orders = (n: number) => Array.from({ length: n }, (_, i) => ({ seller_id: `S${i}`, amount: 100 }));
const order = (fields: object) => paymentBody({ orders: [{ seller_id: "S1", amount: 100, ...fields }] });

/** Every case: a body (object, or raw text), the status, the error code and (maybe) the param. */
const CASES: [name: string, body: object | string | Buffer, status: number, code: string, param?: string][] =
  [
    ["malformed JSON", '{"currency": "USD",', 400, "invalid_json"],
    ["JSON that is not UTF-8", Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 400, "invalid_json"],
    ["a JSON array", "[1,2,3]", 400, "validation_failed"],
    ["a JSON string", '"hello"', 400, "validation_failed"],
    ["an empty object", {}, 400, "validation_failed", "currency"],
    ["a wrong type", paymentBody({ currency: 840 }), 400, "validation_failed", "currency"],
    ["an amount as a float", order({ amount: 12.5 }), 400, "invalid_amount", "orders.0.amount"],
    ["a zero amount", order({ amount: 0 }), 400, "invalid_amount", "orders.0.amount"],
    ["a negative amount", order({ amount: -100 }), 400, "invalid_amount", "orders.0.amount"],
    ["a negative amount string", order({ amount: "-100" }), 400, "invalid_amount", "orders.0.amount"],
    [
      "a huge amount",
      '{"currency":"USD","method":"card","orders":[{"seller_id":"S1","amount":123456789012345678901234567890}],"success_url":"https://a.test/","cancel_url":"https://a.test/"}',
      400,
      "invalid_amount",
      "orders.0.amount",
    ],
    [
      "an amount beyond 2^53 − 1",
      order({ amount: "9007199254740993" }),
      400,
      "invalid_amount",
      "orders.0.amount",
    ],
    ["an amount with exponent", order({ amount: "1e5" }), 400, "invalid_amount", "orders.0.amount"],
    ["decimals in an amount", order({ amount: "12.34" }), 400, "too_many_decimals", "orders.0.amount"],
    ["an unknown currency", paymentBody({ currency: "XYZ" }), 400, "unknown_currency", "currency"],
    ["a currency without minor unit", paymentBody({ currency: "XAU" }), 400, "unknown_currency", "currency"],
    ["a lowercase currency", paymentBody({ currency: "usd" }), 400, "unknown_currency", "currency"],
    ["mixed currencies", order({ currency: "EUR" }), 400, "currency_mismatch", "orders.0.currency"],
    ["no orders", paymentBody({ orders: [] }), 400, "validation_failed", "orders"],
    [
      "50 payment metadata keys (one of the PSP's 50 is settlekit's)",
      paymentBody({ metadata: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, "v"])) }),
      400,
      "validation_failed",
      "metadata",
    ],
    [
      "a [ in a payment metadata key",
      paymentBody({ metadata: { "a[0]": "v" } }),
      400,
      "validation_failed",
      "metadata",
    ],
    ["10 000 orders", paymentBody({ orders: orders(10_000) }), 400, "validation_failed", "orders"],
    [
      "a duplicate seller",
      paymentBody({
        orders: [
          { seller_id: "S1", amount: 1 },
          { seller_id: "S1", amount: 2 },
        ],
      }),
      400,
      "validation_failed",
      "orders.1.seller_id",
    ],
    [
      "unicode junk in a seller id",
      order({ seller_id: "S\u202e1💣" }),
      400,
      "validation_failed",
      "orders.0.seller_id",
    ],
    [
      "a lone surrogate",
      paymentBody({ metadata: { note: "\ud800" } }),
      400,
      "validation_failed",
      "metadata.note",
    ],
    [
      "a NUL character",
      paymentBody({ metadata: { note: "a\u0000b" } }),
      400,
      "validation_failed",
      "metadata.note",
    ],
    [
      "a NUL in a metadata key",
      paymentBody({ metadata: { "k\u0000": "v" } }),
      400,
      "validation_failed",
      "metadata",
    ],
    [
      "a lone surrogate in a metadata key",
      paymentBody({ metadata: { "\ud800x": "v" } }),
      400,
      "validation_failed",
      "metadata",
    ],
    [
      "a NUL in an order's metadata key",
      order({ metadata: { "k\u0000": "v" } }),
      400,
      "validation_failed",
      "orders.0.metadata",
    ],
    [
      "a lone surrogate in an order's metadata key",
      order({ metadata: { "\udc00": "v" } }),
      400,
      "validation_failed",
      "orders.0.metadata",
    ],
    [
      "a NUL in a description",
      order({ description: "mug\u0000" }),
      400,
      "validation_failed",
      "orders.0.description",
    ],
    ["an empty metadata key", paymentBody({ metadata: { "": "v" } }), 400, "validation_failed", "metadata"],
    // Over-long (C0 AF, E0 80 AF: "/") and surrogate (ED A0 80) encodings are not UTF-8.
    ...[
      [0xc0, 0xaf],
      [0xe0, 0x80, 0xaf],
      [0xed, 0xa0, 0x80],
    ].map((bytes): (typeof CASES)[number] => [
      `over-long or surrogate UTF-8 (${bytes.map((b) => b.toString(16).toUpperCase()).join(" ")}) in a string`,
      Buffer.concat([
        Buffer.from('{"currency":"USD","metadata":{"note":"a'),
        Buffer.from(bytes),
        Buffer.from('"}}'),
      ]),
      400,
      "invalid_json",
    ]),
    [
      "a __proto__ key",
      '{"__proto__":{"polluted":true},"currency":"USD"}',
      400,
      "validation_failed",
      "__proto__",
    ],
    [
      "a nested constructor key",
      paymentBody({ metadata: { constructor: "x" } }),
      400,
      "validation_failed",
      "metadata.constructor",
    ],
    ["an unknown field", paymentBody({ buyer_id: "B2" }), 400, "validation_failed", "buyer_id"],
    [
      "a javascript: URL",
      paymentBody({ success_url: "javascript:alert(1)" }),
      400,
      "validation_failed",
      "success_url",
    ],
    ["an unknown method", paymentBody({ method: "crypto" }), 400, "validation_failed", "method"],
    ["deep nesting", `${"[".repeat(5000)}${"]".repeat(5000)}`, 400, "invalid_json"],
    [
      "a PAN in metadata",
      paymentBody({ metadata: { note: "card 4242 4242 4242 4242" } }),
      400,
      "card_data_rejected",
      "metadata.note",
    ],
    ["a PAN as a number", '{"pan_like": 4000056655665556}', 400, "card_data_rejected"],
    ["a 19-digit PAN", `{"x": "${"6".repeat(1)}011000990139424"}`, 400, "card_data_rejected"],
    ["a card_number field", { card_number: "x" }, 400, "card_data_rejected", "card_number"],
    ["a cvc field", paymentBody({ metadata: { cvc: "123" } }), 400, "card_data_rejected", "metadata.cvc"],
  ];

describe.each(MATRIX)("bad input on %s over %s", (dialect, mode) => {
  let world: World;
  const logs: string[] = [];
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    });
    world = await makeWorld(dialect, { mode, router: { logger: pino(sink), bodyLimit: 512 * 1024 } });
  });
  afterAll(async () => world?.close());

  const post = (body: object | string | Buffer, headers: Record<string, string> = {}) =>
    request(world.app)
      .post("/v1/payments")
      .set(asBuyer())
      .set("Idempotency-Key", `k-${Math.random()}`)
      .set("Content-Type", "application/json")
      .set(headers)
      // Bytes as given: superagent would JSON-encode a Buffer.
      .serialize((raw) => raw)
      .send(typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body));

  it.each(CASES)("%s: a typed 4xx, nothing stored", async (_name, body, status, code, param) => {
    const before = await world.rowCounts();
    const res = await post(body);
    expect(res.status).toBe(status);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.body.error).toMatchObject({
      code,
      message: expect.any(String),
      request_id: res.headers["x-request-id"],
    });
    if (param !== undefined) expect(res.body.error.param).toBe(param);
    expect(await world.rowCounts()).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("a JSON number with decimals as an amount says amounts are integer minor units in a string of digits", async () => {
    for (const amount of [12.34, 0.5]) {
      const res = await post(order({ amount }));
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: "invalid_amount", param: "orders.0.amount" });
      expect(res.body.error.message).toBe(
        'orders.0.amount: amounts are integer minor units, as a string of digits or a JSON integer ("1234" for 12.34 USD), not decimal numbers',
      );
    }
    for (const amount of [null, true, "abc", []]) {
      const res = await post(order({ amount }));
      expect(res.body.error.message, JSON.stringify(amount)).toContain(
        "a string of digits or a JSON integer",
      );
    }
  });

  it("the JS API refuses what REST refuses, with the same code and param", async () => {
    const js = (overrides: Record<string, unknown>) =>
      world.system.createPayment(
        {
          buyerId: "B1",
          currency: "USD",
          method: "card",
          orders: [{ sellerId: "S1", amount: 100n }],
          successUrl: "https://shop.test/ok",
          cancelUrl: "https://shop.test/cart",
          ...overrides,
        } as Parameters<typeof world.system.createPayment>[0],
        { idempotencyKey: `js-${Math.random()}` },
      );
    const cases: [rest: object, js: Record<string, unknown>][] = [
      [paymentBody({ currency: "XYZ" }), { currency: "XYZ" }],
      [paymentBody({ currency: "usd" }), { currency: "usd" }],
      [paymentBody({ currency: "XAU" }), { currency: "XAU" }],
      [paymentBody({ currency: 840 }), { currency: 840 }],
      [paymentBody({ metadata: { "k\u0000": "v" } }), { metadata: { "k\u0000": "v" } }],
      [paymentBody({ metadata: { "\ud800x": "v" } }), { metadata: { "\ud800x": "v" } }],
      [
        order({ metadata: { "k\u0000": "v" } }),
        { orders: [{ sellerId: "S1", amount: 1n, metadata: { "k\u0000": "v" } }] },
      ],
      [order({ description: "\ud800" }), { orders: [{ sellerId: "S1", amount: 1n, description: "\ud800" }] }],
    ];
    const before = await world.rowCounts();
    for (const [restBody, jsInput] of cases) {
      const res = await post(restBody);
      const error = await js(jsInput).then(
        () => expect.fail(`the JS API accepted ${JSON.stringify(Object.keys(jsInput))}`),
        (e: SettlekitError) => e,
      );
      expect(error).toBeInstanceOf(SettlekitError);
      expect([error.code.toLowerCase(), error.param], JSON.stringify(restBody)).toEqual([
        res.body.error.code,
        res.body.error.param,
      ]);
    }
    expect(await world.rowCounts()).toEqual(before);
  });

  it("the JS API refuses refund text a store cannot keep, before touching the store", async () => {
    const before = await world.rowCounts();
    for (const reason of ["a\u0000b", "\ud800"]) {
      const refund = world.system.refund(
        { paymentOrderId: "po_x_1", reason },
        { idempotencyKey: `r-${Math.random()}` },
      );
      await expect(refund).rejects.toMatchObject({ code: "VALIDATION_FAILED", param: "reason" });
      const payment = world.system.refundPayment(
        "pay_x",
        { reason },
        { idempotencyKey: `r-${Math.random()}` },
      );
      await expect(payment).rejects.toMatchObject({ code: "VALIDATION_FAILED", param: "reason" });
    }
    await expect(
      world.system.refund({ paymentOrderId: "po\u0000" }, { idempotencyKey: "r-nul" }),
    ).rejects.toMatchObject({ code: "VALIDATION_FAILED", param: "paymentOrderId" });
    expect(await world.rowCounts()).toEqual(before);
  });

  it("a body over the limit → 413; not JSON → 415; both change nothing", async () => {
    const before = await world.rowCounts();
    const big = await post(paymentBody({ metadata: { note: "x".repeat(600 * 1024) } }));
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe("payload_too_large");
    const form = await post("currency=USD", { "Content-Type": "application/x-www-form-urlencoded" });
    expect(form.status).toBe(415);
    expect(form.body.error.code).toBe("unsupported_media_type");
    expect(await world.rowCounts()).toEqual(before);
  });

  it("never logs card numbers, the Authorization header or the body", async () => {
    logs.length = 0;
    const res = await post(paymentBody({ metadata: { note: "4242424242424242" } }), {
      Authorization: "Bearer buyer:B1",
      Cookie: "session=s3cr3t-cookie",
    });
    expect(res.status).toBe(400);
    // A PAN in the path (an id nobody has) is masked in the request log too.
    await request(world.app).get("/v1/payments/4000056655665556").set(asBuyer());
    const text = logs.join("");
    expect(text).toContain(res.headers["x-request-id"]);
    expect(text).toContain("card_data_rejected");
    expect(text).toContain("/v1/payments/[card]");
    for (const secret of ["4242424242424242", "4000056655665556", "Bearer", "s3cr3t", "metadata"]) {
      expect(text).not.toContain(secret);
    }
  });
});
