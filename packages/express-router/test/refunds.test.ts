import request from "supertest";
import { describe, expect, it } from "vitest";
import type { RefundAuthorizationRequest, RefundRequester } from "../src/index.js";
import { refundSchema } from "../src/schemas.js";
import type { Dialect, Mode, World, WorldOptions } from "./support/world.js";
import {
  asBuyer,
  asOperator,
  asSeller,
  MATRIX,
  makeWorld,
  paymentBody,
  referenceOf,
  suiteWorld,
  webhookDelivery,
} from "./support/world.js";

let keys = 0;
const key = () => `refund-key-${++keys}`;

type Paid = { id: string; orders: { id: string; seller_id: string }[] };

/** A world and the helpers every refund test needs: paid payments, posting refunds as anyone. */
function refundWorld(dialect: Dialect, mode: Mode, options: WorldOptions = {}) {
  const t = {} as {
    world: World;
    paid(buyer?: string, body?: object): Promise<Paid>;
    unpaid(buyer?: string, body?: object): Promise<Paid>;
    post(path: string, auth: Record<string, string>, body?: object, idempotencyKey?: string): request.Test;
  };
  t.world = suiteWorld(dialect, { mode, ...options });
  const deliver = webhookDelivery(t.world);
  t.unpaid = async (buyer = "B1", body: object = paymentBody()) => {
    const created = await request(t.world.app)
      .post("/v1/payments")
      .set(asBuyer(buyer))
      .set("Idempotency-Key", key())
      .send(body);
    expect(created.status).toBe(201);
    return created.body as Paid;
  };
  t.paid = async (buyer = "B1", body: object = paymentBody()) => {
    const created = await t.unpaid(buyer, body);
    await t.world.sandbox.pay(referenceOf(created as { redirect_url?: unknown }));
    await deliver();
    return created;
  };
  t.post = (path, auth, body, idempotencyKey = key()) => {
    const req = request(t.world.app).post(path).set(auth);
    if (idempotencyKey) req.set("Idempotency-Key", idempotencyKey);
    return body === undefined ? req.send() : req.send(body);
  };
  return t;
}

const operatorRefund = (id: string) => `/v1/operator/payments/${id}/refunds`;
const sellerRefund = (seller: string, order: string) =>
  `/v1/sellers/${seller}/payment-orders/${order}/refunds`;
const buyerRefund = (id: string) => `/v1/payments/${id}/refunds`;

describe.each(MATRIX)(
  "refunds on %s over %s (default: operators and sellers, never buyers)",
  (dialect, mode) => {
    const t = refundWorld(dialect, mode);

    it("POST /operator/payments/:id/refunds refunds an order, idempotently, and never more than captured", async () => {
      const body = await t.paid();
      const order = body.orders[0]!.id;
      const k = key();
      const refund = () =>
        t.post(
          operatorRefund(body.id),
          asOperator,
          { payment_order_id: order, amount: 4_000, reason: "damaged" },
          k,
        );
      const first = await refund();
      expect(first.status).toBe(201);
      expect(refundSchema.parse(first.body)).toMatchObject({
        payment_order_id: order,
        amount: "4000",
        status: "succeeded",
      });
      expect(first.headers["idempotent-replayed"]).toBeUndefined();
      const again = await refund();
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
      expect(again.headers["idempotent-replayed"]).toBe("true");
      const otherBody = await t.post(
        operatorRefund(body.id),
        asOperator,
        { payment_order_id: order, amount: 1 },
        k,
      );
      expect(otherBody.status).toBe(422);
      expect(otherBody.body.error.code).toBe("idempotency_key_reused");

      const more = (payload: object, id = body.id) => t.post(operatorRefund(id), asOperator, payload);
      const unpaid = await t.unpaid();
      const rows = await t.world.rowCounts();
      const tooMuch = await more({ payment_order_id: order, amount: "6001" });
      expect(tooMuch.status).toBe(422);
      expect(tooMuch.body.error).toMatchObject({ code: "refund_exceeds_captured", param: "amount" });
      expect((await more({ payment_order_id: order }, "pay_nobody")).status).toBe(404);
      expect((await more({ payment_order_id: "po_elsewhere_1" })).status).toBe(404);
      // An order of another payment is not an order of this one.
      const elsewhere = await more({ payment_order_id: unpaid.orders[0]!.id });
      // The body in the message: a CI run once answered 400 here, not reproduced since.
      expect(elsewhere.status, JSON.stringify({ sent: unpaid.orders[0], got: elsewhere.body })).toBe(404);
      const which = await more({ amount: 1 });
      expect(which.status).toBe(400);
      expect(which.body.error).toMatchObject({ code: "validation_failed", param: "payment_order_id" });
      for (const amount of [0, -1, 1.5, "1.50", 2 ** 60]) {
        const res = await more({ payment_order_id: order, amount });
        expect(res.status, String(amount)).toBe(400);
      }
      for (const reason of ["a\u0000b", "\ud800"]) {
        const res = await more({ payment_order_id: order, reason });
        expect(res.status).toBe(400);
        expect(res.body.error).toMatchObject({ code: "validation_failed", param: "reason" });
      }
      const notCaptured = await more({ payment_order_id: unpaid.orders[0]!.id }, unpaid.id);
      expect(notCaptured.status).toBe(409);
      expect(notCaptured.body.error.code).toBe("invalid_state_transition");
      const missingKey = await t.post(operatorRefund(body.id), asOperator, {}, "");
      expect(missingKey.status).toBe(400);
      expect(missingKey.body.error.code).toBe("idempotency_key_missing");
      for (const auth of [{}, asBuyer(), asSeller("S1")]) {
        const res = await t.post(operatorRefund(body.id), auth, { payment_order_id: order });
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe("forbidden");
      }
      expect(await t.world.rowCounts()).toEqual(rows);

      const rest = await more({ payment_order_id: order });
      expect(rest.body).toMatchObject({ amount: "6000", status: "succeeded" });
      const view = await request(t.world.app).get(`/v1/payments/${body.id}`).set(asBuyer());
      expect(view.body).toMatchObject({ status: "partially_refunded", refunded_amount: "10000" });
      expect(view.body.refunds).toHaveLength(2);
    });

    it("an operator refunds a single-order payment without naming the order", async () => {
      const body = await t.paid("B1", paymentBody({ orders: [{ seller_id: "S9", amount: 500 }] }));
      const res = await t.post(operatorRefund(body.id), asOperator);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ amount: "500", status: "succeeded" });
    });

    it("a seller refunds their own order, idempotently, and never more than captured", async () => {
      const body = await t.paid();
      const mine = body.orders.find((o) => o.seller_id === "S1")!.id;
      const k = key();
      const first = await t.post(
        sellerRefund("S1", mine),
        asSeller("S1"),
        { amount: "2500", reason: "late" },
        k,
      );
      expect(first.status).toBe(201);
      expect(refundSchema.parse(first.body)).toMatchObject({
        payment_id: body.id,
        payment_order_id: mine,
        amount: "2500",
        status: "succeeded",
      });
      const again = await t.post(
        sellerRefund("S1", mine),
        asSeller("S1"),
        { amount: "2500", reason: "late" },
        k,
      );
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
      expect(again.headers["idempotent-replayed"]).toBe("true");

      const unpaid = await t.unpaid();
      const rows = await t.world.rowCounts();
      const tooMuch = await t.post(sellerRefund("S1", mine), asSeller("S1"), { amount: 7_501 });
      expect(tooMuch.status).toBe(422);
      expect(tooMuch.body.error).toMatchObject({ code: "refund_exceeds_captured", param: "amount" });
      for (const amount of [0, -1, 1.5, "1.50", 2 ** 60]) {
        expect(
          (await t.post(sellerRefund("S1", mine), asSeller("S1"), { amount })).status,
          String(amount),
        ).toBe(400);
      }
      // The order is in the path: naming one in the body is an unknown field.
      const named = await t.post(sellerRefund("S1", mine), asSeller("S1"), { payment_order_id: mine });
      expect(named.status).toBe(400);
      expect(named.body.error).toMatchObject({ code: "validation_failed", param: "payment_order_id" });
      const unpaidOrder = unpaid.orders.find((o) => o.seller_id === "S1")!.id;
      const notCaptured = await t.post(sellerRefund("S1", unpaidOrder), asSeller("S1"), {});
      expect(notCaptured.status).toBe(409);
      expect(notCaptured.body.error.code).toBe("invalid_state_transition");
      const missingKey = await t.post(sellerRefund("S1", mine), asSeller("S1"), {}, "");
      expect(missingKey.status).toBe(400);
      expect(await t.world.rowCounts()).toEqual(rows);

      const rest = await t.post(sellerRefund("S1", mine), asSeller("S1"));
      expect(rest.body).toMatchObject({ amount: "7500", status: "succeeded" });
      const view = await request(t.world.app).get(`/v1/payments/${body.id}`).set(asBuyer());
      expect(view.body.orders.find((o: { id: string }) => o.id === mine)).toMatchObject({
        refund_status: "refunded",
        refunded_amount: "10000",
      });
    });

    it("a seller cannot refund another seller's order (404, like an unknown one) nor act under another id (403)", async () => {
      const body = await t.paid();
      const s1 = body.orders.find((o) => o.seller_id === "S1")!.id;
      const rows = await t.world.rowCounts();
      const others = await t.post(sellerRefund("S2", s1), asSeller("S2"), { amount: 1 });
      const unknown = await t.post(sellerRefund("S2", "po_nobody_1"), asSeller("S2"), { amount: 1 });
      expect([others.status, unknown.status]).toEqual([404, 404]);
      expect(others.body.error.code).toBe(unknown.body.error.code);
      const impostor = await t.post(sellerRefund("S1", s1), asSeller("S2"), { amount: 1 });
      expect(impostor.status).toBe(403);
      expect(impostor.body.error).toMatchObject({ type: "permission_error", code: "forbidden" });
      // Another id in the path is refused before the order is looked at: the same for any order.
      expect((await t.post(sellerRefund("S1", "po_nobody_1"), asSeller("S2"), { amount: 1 })).status).toBe(
        403,
      );
      for (const auth of [{}, asBuyer(), asOperator]) {
        const res = await t.post(sellerRefund("S1", s1), auth, { amount: 1 });
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe("unauthenticated");
      }
      expect(await t.world.rowCounts()).toEqual(rows);
    });

    it("a buyer cannot refund by default: 403 on their own paid payment, nothing stored, whatever is sent", async () => {
      const body = await t.paid();
      const order = body.orders[0]!.id;
      const rows = await t.world.rowCounts();
      for (const [id, payload, idempotencyKey] of [
        [body.id, { payment_order_id: order, amount: 100 }, key()],
        [body.id, {}, key()],
        [body.id, { amount: "junk" }, key()],
        [body.id, { payment_order_id: order }, ""],
        ["pay_nobody", { payment_order_id: order }, key()],
      ] as const) {
        const res = await t.post(buyerRefund(id), asBuyer(), payload, idempotencyKey);
        expect(res.status, JSON.stringify(payload)).toBe(403);
        expect(res.body.error).toMatchObject({ type: "permission_error", code: "forbidden" });
      }
      expect((await t.post(buyerRefund(body.id), {}, {})).status).toBe(401);
      expect(await t.world.rowCounts()).toEqual(rows);
      const view = await request(t.world.app).get(`/v1/payments/${body.id}`).set(asBuyer());
      expect(view.body).toMatchObject({ status: "succeeded", refunded_amount: "0", refunds: [] });
    });

    it("seller routes answer 403 when the host has no authenticateSeller", async () => {
      const world = await makeWorld(dialect, { mode, router: { authenticateSeller: undefined } });
      try {
        const res = await request(world.app)
          .post(sellerRefund("S1", "po_x_1"))
          .set(asSeller("S1"))
          .set("Idempotency-Key", key())
          .send({});
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe("forbidden");
      } finally {
        await world.close();
      }
    });
  },
);

describe.each(MATRIX)("authorizeRefund on %s over %s (the host's refund policy)", (dialect, mode) => {
  const calls: { who: RefundRequester; payment: string; request: RefundAuthorizationRequest }[] = [];
  let allowBuyers = true;
  let allowOthers = true;
  const t = refundWorld(dialect, mode, {
    router: {
      async authorizeRefund(who, payment, request) {
        calls.push({ who, payment: String(payment.id), request });
        return who.role === "buyer" ? allowBuyers : allowOthers;
      },
    },
  });

  it("lets a buyer refund their own payment when it allows it, idempotently; another buyer's is 404", async () => {
    const body = await t.paid("B1", paymentBody({ orders: [{ seller_id: "S1", amount: 3_000 }] }));
    calls.length = 0;
    const k = key();
    const first = await t.post(
      buyerRefund(body.id),
      asBuyer("B1"),
      { amount: 1_000, reason: "changed my mind" },
      k,
    );
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      amount: "1000",
      status: "succeeded",
      payment_order_id: body.orders[0]!.id,
    });
    expect(calls).toEqual([
      {
        who: expect.objectContaining({ role: "buyer", buyerId: "B1" }),
        payment: body.id,
        // The single order is named for the hook even though the buyer left it out.
        request: { paymentOrderId: body.orders[0]!.id, amount: 1_000n, reason: "changed my mind" },
      },
    ]);
    const again = await t.post(
      buyerRefund(body.id),
      asBuyer("B1"),
      { amount: 1_000, reason: "changed my mind" },
      k,
    );
    expect(again.body).toEqual(first.body);
    expect(again.headers["idempotent-replayed"]).toBe("true");

    calls.length = 0;
    const rows = await t.world.rowCounts();
    const stranger = await t.post(buyerRefund(body.id), asBuyer("B2"), { amount: 1 });
    expect(stranger.status).toBe(404);
    expect(calls).toEqual([]); // never asked about a payment that is not the caller's
    const tooMuch = await t.post(buyerRefund(body.id), asBuyer("B1"), { amount: 2_001 });
    expect(tooMuch.status).toBe(422);
    expect(await t.world.rowCounts()).toEqual(rows);
  });

  it("refuses with 403 and stores nothing when it says no, for buyers, sellers and operators alike", async () => {
    const body = await t.paid();
    const s1 = body.orders.find((o) => o.seller_id === "S1")!.id;
    allowBuyers = false;
    allowOthers = false;
    try {
      calls.length = 0;
      const rows = await t.world.rowCounts();
      const buyer = await t.post(buyerRefund(body.id), asBuyer("B1"), { payment_order_id: s1, amount: 1 });
      const seller = await t.post(sellerRefund("S1", s1), asSeller("S1"), { amount: 1 });
      const operator = await t.post(operatorRefund(body.id), asOperator, { payment_order_id: s1, amount: 1 });
      expect([buyer.status, seller.status, operator.status]).toEqual([403, 403, 403]);
      expect(operator.body.error).toMatchObject({ type: "permission_error", code: "forbidden" });
      expect(calls.map((c) => [c.who.role, c.payment, c.request.paymentOrderId])).toEqual([
        ["buyer", body.id, s1],
        ["seller", body.id, s1],
        ["operator", body.id, s1],
      ]);
      expect(calls[1]!.who).toMatchObject({ role: "seller", sellerId: "S1" });
      // Another seller's order stays a 404: the hook is not asked about what the caller cannot see.
      calls.length = 0;
      expect((await t.post(sellerRefund("S2", s1), asSeller("S2"), { amount: 1 })).status).toBe(404);
      expect(calls).toEqual([]);
      expect(await t.world.rowCounts()).toEqual(rows);
    } finally {
      allowBuyers = true;
      allowOthers = true;
    }
    const allowed = await t.post(sellerRefund("S1", s1), asSeller("S1"), { amount: 1 });
    expect(allowed.status).toBe(201);
  });
});
