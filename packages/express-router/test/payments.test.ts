import { PspError, SettlekitError } from "@settlekit/core";
import { sandboxProvider } from "@settlekit/psp-sandbox";
import request from "supertest";
import { describe, expect, it, vi } from "vitest";
import { eventListSchema, paymentSchema } from "../src/schemas.js";
import {
  asBuyer,
  MATRIX,
  MODES,
  makeWorld,
  paymentBody,
  referenceOf,
  suiteWorld,
  webhookDelivery,
} from "./support/world.js";

let keys = 0;
const key = () => `key-${++keys}`;

describe.each(MATRIX)("payments API on %s over %s", (dialect, mode) => {
  const world = suiteWorld(dialect, { mode });

  const create = (body: object = paymentBody(), idempotencyKey = key(), buyer = "B1") =>
    request(world.app)
      .post("/v1/payments")
      .set(asBuyer(buyer))
      .set("Idempotency-Key", idempotencyKey)
      .send(body);
  /** Delivers every webhook the sandbox emitted since the last call, over HTTP. */
  const deliverWebhooks = webhookDelivery(world);
  const paid = async (buyer = "B1", body: object = paymentBody()) => {
    const created = await create(body, key(), buyer);
    await world.sandbox.pay(referenceOf(created.body));
    await deliverWebhooks();
    return created.body as { id: string; orders: { id: string }[] };
  };

  it("POST /payments creates a payment: 201, the hosted page URL, per-seller orders, Location", async () => {
    const res = await create();
    expect(res.status).toBe(201);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.headers.location).toBe(`/v1/payments/${res.body.id}`);
    expect(res.headers["x-request-id"]).toMatch(/^req_[0-9a-f]{32}$/);
    expect(res.headers["server-timing"]).toMatch(/^app;dur=\d+(\.\d)?$/);
    expect(res.headers["idempotent-replayed"]).toBeUndefined();
    expect(paymentSchema.parse(res.body)).toMatchObject({
      status: "requires_payment",
      buyer_id: "B1",
      currency: "USD",
      amount: "12345",
      next_action: { type: "redirect_to_psp" },
      orders: [
        { seller_id: "S1", amount: "10000", status: "pending" },
        { seller_id: "S2", amount: "2345", status: "pending" },
      ],
      metadata: { cart: "cart-1" },
    });
    expect(res.body.redirect_url).toMatch(/^http:\/\/shop\.test\/sandbox\/pay\/\S+$/);
  });

  it("replays the same key and body with the stored answer and Idempotent-Replayed: true", async () => {
    const k = key();
    const first = await create(paymentBody(), k);
    const rows = await world.rowCounts();
    // Same meaning, other spelling: amounts as strings, keys in another order.
    const again = await create(
      {
        ...paymentBody(),
        orders: [
          { amount: "10000", seller_id: "S1" },
          { seller_id: "S2", amount: 2345 },
        ],
      },
      k,
    );
    expect(again.status).toBe(first.status);
    expect(again.body).toEqual(first.body);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(await world.rowCounts()).toEqual(rows);
  });

  it("answers 422 idempotency_key_reused for the same key with another body, and keys are per buyer", async () => {
    const k = key();
    await create(paymentBody(), k);
    const rows = await world.rowCounts();
    const res = await create(paymentBody({ currency: "EUR" }), k);
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ type: "idempotency_error", code: "idempotency_key_reused" });
    expect(await world.rowCounts()).toEqual(rows);
    expect((await create(paymentBody(), k, "B2")).status).toBe(201);
  });

  it("requires an Idempotency-Key of at most 255 printable characters", async () => {
    const rows = await world.rowCounts();
    const missing = await request(world.app).post("/v1/payments").set(asBuyer()).send(paymentBody());
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: "idempotency_key_missing", param: "Idempotency-Key" });
    expect((await create(paymentBody(), "k".repeat(256))).status).toBe(400);
    expect((await create(paymentBody(), "k".repeat(255))).status).toBe(201);
    expect((await world.rowCounts()).settlekit_payments).toBe(rows.settlekit_payments! + 1);
  });

  it("GET /payments/:id: the buyer's own payment; another buyer's, unknown or malformed ids are 404", async () => {
    const created = (await create()).body;
    const own = await request(world.app).get(`/v1/payments/${created.id}`).set(asBuyer());
    expect(own.status).toBe(200);
    expect(paymentSchema.parse(own.body)).toMatchObject({ id: created.id, status: "requires_payment" });
    for (const [path, buyer] of [
      [`/v1/payments/${created.id}`, "B2"],
      ["/v1/payments/pay_nope", "B1"],
      [`/v1/payments/${"x".repeat(300)}`, "B1"],
      ["/v1/payments/%F0%9F%92%A3%00", "B1"],
    ] as const) {
      const res = await request(world.app).get(path).set(asBuyer(buyer));
      expect(res.status, path).toBe(404);
      expect(res.body.error).toMatchObject({ type: "invalid_request_error", code: "not_found" });
    }
    // Not even decodable: the path itself is malformed.
    const undecodable = await request(world.app).get("/v1/payments/%E0%A4%A").set(asBuyer());
    expect(undecodable.status).toBe(400);
    expect(undecodable.body.error.code).toBe("validation_failed");
    const anonymous = await request(world.app).get(`/v1/payments/${created.id}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toMatchObject({ type: "authentication_error", code: "unauthenticated" });
    expect(anonymous.body.error.request_id).toBe(anonymous.headers["x-request-id"]);
  });

  it("shows a paid payment, a declined one (with what to do) and the timeline", async () => {
    const body = await paid();
    const view = await request(world.app).get(`/v1/payments/${body.id}`).set(asBuyer());
    expect(view.body).toMatchObject({ status: "succeeded", next_action: { type: "none" } });
    expect(view.body.orders.map((o: { status: string }) => o.status)).toEqual(["succeeded", "succeeded"]);

    const declined = (await create()).body;
    await world.sandbox.pay(referenceOf(declined), { card: "4000 0000 0000 0002" });
    await deliverWebhooks();
    const failed = await request(world.app).get(`/v1/payments/${declined.id}`).set(asBuyer());
    expect(failed.body).toMatchObject({
      status: "failed",
      failure_reason: expect.stringContaining("card_declined"),
      next_action: { type: "retry_payment" },
    });

    const events = await request(world.app).get(`/v1/payments/${body.id}/events`).set(asBuyer());
    expect(events.status).toBe(200);
    expect(eventListSchema.parse(events.body).data.map((e) => e.type)).toEqual([
      "payment.created",
      "payment.registered",
      "payment.succeeded",
    ]);
    const page = await request(world.app).get(`/v1/payments/${body.id}/events?limit=1`).set(asBuyer());
    expect(page.body).toMatchObject({ has_more: true, data: [{ type: "payment.created" }] });
    const next = await request(world.app)
      .get(`/v1/payments/${body.id}/events?limit=5&starting_after=${page.body.data[0].id}`)
      .set(asBuyer());
    expect(next.body.data).toHaveLength(2);
    expect((await request(world.app).get(`/v1/payments/${body.id}/events`).set(asBuyer("B2"))).status).toBe(
      404,
    );
    expect(
      (await request(world.app).get(`/v1/payments/${body.id}/events?limit=0`).set(asBuyer())).status,
    ).toBe(400);
  });

  it("POST /payments/:id/retry starts a new attempt on a failed payment, only for its buyer", async () => {
    const declined = (await create()).body;
    await world.sandbox.pay(referenceOf(declined), { card: "4000 0000 0000 0002" });
    await deliverWebhooks();
    const retry = (key: string, buyer = "B1") =>
      request(world.app)
        .post(`/v1/payments/${declined.id}/retry`)
        .set(asBuyer(buyer))
        .set("Idempotency-Key", key);
    expect((await retry("retry-other-buyer", "B2")).status).toBe(404);
    const retried = await retry("retry-1");
    expect(retried.status).toBe(200);
    expect(paymentSchema.parse(retried.body)).toMatchObject({
      id: declined.id,
      status: "requires_payment",
      next_action: { type: "redirect_to_psp" },
    });
    expect(retried.body.redirect_url).not.toBe(declined.redirect_url);
    await world.sandbox.pay(referenceOf(retried.body));
    await deliverWebhooks();
    const view = await request(world.app).get(`/v1/payments/${declined.id}`).set(asBuyer());
    expect(view.body).toMatchObject({ status: "succeeded" });
    // Nothing to retry any more.
    const again = await retry("retry-2");
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: "invalid_state_transition" });
  });

  it("POST /payments/:id/retry requires an Idempotency-Key and changes nothing without one", async () => {
    const declined = (await create()).body;
    await world.sandbox.pay(referenceOf(declined), { card: "4000 0000 0000 0002" });
    await deliverWebhooks();
    const before = await world.rowCounts();
    const res = await request(world.app).post(`/v1/payments/${declined.id}/retry`).set(asBuyer());
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ param: "Idempotency-Key" });
    expect(await world.rowCounts()).toEqual(before);
    const view = await request(world.app).get(`/v1/payments/${declined.id}`).set(asBuyer());
    expect(view.body).toMatchObject({ status: "failed", redirect_url: declined.redirect_url });
  });

  it("POST /payments/:id/retry replayed with the same key answers the same attempt, with no second PSP registration", async () => {
    const declined = (await create()).body;
    await world.sandbox.pay(referenceOf(declined), { card: "4000 0000 0000 0002" });
    await deliverWebhooks();
    const registrations = vi.spyOn(world.sandbox, "createHostedPayment");
    try {
      const retry = (key: string) =>
        request(world.app)
          .post(`/v1/payments/${declined.id}/retry`)
          .set(asBuyer())
          .set("Idempotency-Key", key);
      const first = await retry("retry-twice");
      expect(first.status).toBe(200);
      const replay = await retry("retry-twice");
      expect(replay.status).toBe(200);
      expect(replay.body).toEqual(first.body);
      expect(first.headers["idempotent-replayed"]).toBeUndefined();
      expect(replay.headers["idempotent-replayed"]).toBe("true");
      expect(registrations).toHaveBeenCalledTimes(1);
      // Another key is another click: the payment is no longer failed.
      expect((await retry("retry-another")).status).toBe(409);
      // The same key for another payment is a different request.
      const other = (await create()).body;
      const reused = await request(world.app)
        .post(`/v1/payments/${other.id}/retry`)
        .set(asBuyer())
        .set("Idempotency-Key", "retry-twice");
      expect(reused.status).toBe(422);
      expect(registrations).toHaveBeenCalledTimes(2); // the create above only
    } finally {
      registrations.mockRestore();
    }
  });

  it("POST /payments/:id/retry whose PSP call failed runs again under the same key", async () => {
    const declined = (await create()).body;
    await world.sandbox.pay(referenceOf(declined), { card: "4000 0000 0000 0002" });
    await deliverWebhooks();
    const registrations = vi
      .spyOn(world.sandbox, "createHostedPayment")
      .mockRejectedValueOnce(new PspError("PSP_UNAVAILABLE", "retryable", "The sandbox is down."));
    try {
      const retry = () =>
        request(world.app)
          .post(`/v1/payments/${declined.id}/retry`)
          .set(asBuyer())
          .set("Idempotency-Key", "retry-after-outage");
      expect((await retry()).status).toBe(503);
      const view = await request(world.app).get(`/v1/payments/${declined.id}`).set(asBuyer());
      expect(view.body).toMatchObject({ status: "failed" });
      const again = await retry();
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ status: "requires_payment" });
      expect(again.headers["idempotent-replayed"]).toBeUndefined();
      expect(registrations).toHaveBeenCalledTimes(2);
    } finally {
      registrations.mockRestore();
    }
  });

  // Refunds (operator, seller, and buyer self-service behind authorizeRefund): refunds.test.ts.

  if (mode === "express") {
    it("answers unknown routes under the prefix with a JSON 404 and leaves other paths to the host", async () => {
      const res = await request(world.app).get("/v1/nope").set(asBuyer());
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("route_not_found");
      expect((await request(world.app).get("/elsewhere")).headers["content-type"]).toMatch(/^text\/html/);
    });
  } else {
    // The Fetch handler has no host behind it: whatever it is given is its to answer.
    it("answers unknown routes, under the prefix or not, with a JSON 404", async () => {
      const res = await request(world.app).get("/v1/nope").set(asBuyer());
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("route_not_found");
      const elsewhere = await request(world.app).get("/elsewhere");
      expect(elsewhere.status).toBe(404);
      expect(elsewhere.headers["content-type"]).toMatch(/^application\/json/);
      expect(elsewhere.body.error).toMatchObject({
        code: "route_not_found",
        request_id: elsewhere.headers["x-request-id"],
      });
    });
  }

  it("answers a known path asked with another method with 405 and Allow, and OPTIONS with Allow", async () => {
    const wrongMethod = await request(world.app).delete("/v1/payments/pay_1").set(asBuyer());
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe("GET, HEAD, OPTIONS");
    expect(wrongMethod.body.error).toMatchObject({
      type: "invalid_request_error",
      code: "method_not_allowed",
    });
    const getPayments = await request(world.app).get("/v1/payments").set(asBuyer());
    expect(getPayments.status).toBe(405);
    expect(getPayments.headers.allow).toBe("POST, OPTIONS");
    const options = await request(world.app).options("/v1/payments/pay_1/refunds").set(asBuyer());
    expect(options.status).toBe(204);
    expect(options.headers.allow).toBe("POST, OPTIONS");
    expect((await request(world.app).put("/v1/webhooks/sandbox").send("{}")).status).toBe(405);
  });
});

describe.each(MODES)("verifyPayment (the host's price check) over %s", (mode) => {
  it("refuses a payment whose amounts are not the host's prices, storing nothing", async () => {
    const prices: Record<string, bigint> = { S1: 10_000n, S2: 2_345n };
    const seen: string[] = [];
    const world = await makeWorld("sqlite", {
      mode,
      router: {
        verifyPayment(_req, payment) {
          seen.push(payment.buyerId);
          for (const [i, order] of payment.orders.entries()) {
            if (prices[order.seller_id] !== order.amount) {
              throw new SettlekitError("VALIDATION_FAILED", "That is not the price of the cart.", {
                param: `orders.${i}.amount`,
              });
            }
          }
        },
      },
    });
    try {
      const before = await world.rowCounts();
      const tampered = paymentBody();
      tampered.orders[0] = { seller_id: "S1", amount: 1 };
      const refused = await request(world.app)
        .post("/v1/payments")
        .set(asBuyer("B7"))
        .set("Idempotency-Key", "tampered")
        .send(tampered);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({ code: "validation_failed", param: "orders.0.amount" });
      expect(await world.rowCounts()).toEqual(before);
      const fair = await request(world.app)
        .post("/v1/payments")
        .set(asBuyer("B7"))
        .set("Idempotency-Key", "fair")
        .send(paymentBody());
      expect(fair.status).toBe(201);
      expect(seen).toEqual(["B7", "B7"]);
    } finally {
      await world.close();
    }
  });
});

describe.each(MODES)("Idempotency-Key while the first request is still running over %s", (mode) => {
  it("answers 409 idempotency_key_in_use, then the stored answer once the first has finished", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let registrations = 0;
    // The PSP registration of the first request waits on the gate, so its key stays locked.
    const inner = sandboxProvider({ baseUrl: "http://shop.test/sandbox", webhookSecret: "whsec_slow" });
    const slow = Object.assign(Object.create(inner) as typeof inner, {
      async createHostedPayment(input: Parameters<typeof inner.createHostedPayment>[0]) {
        registrations++;
        await gate;
        return inner.createHostedPayment(input);
      },
    });
    const world = await makeWorld("sqlite", { mode, system: { providers: [slow] } });
    try {
      const post = () =>
        request(world.app)
          .post("/v1/payments")
          .set(asBuyer("B9"))
          .set("Idempotency-Key", "slow-click")
          .send(paymentBody());
      const first = post().then((res) => res);
      while (registrations === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const second = await post();
      expect(second.status).toBe(409);
      expect(second.body.error).toMatchObject({
        type: "idempotency_error",
        code: "idempotency_key_in_use",
        param: "idempotency_key",
      });
      release();
      expect((await first).status).toBe(201);
      const third = await post();
      expect(third.status).toBe(201);
      expect(third.headers["idempotent-replayed"]).toBe("true");
      expect(third.body.id).toBe((await first).body.id);
      expect(registrations).toBe(1);
    } finally {
      release();
      await world.close();
      await inner.close();
    }
  });
});
