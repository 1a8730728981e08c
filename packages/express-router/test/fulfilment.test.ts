import { commissionAndLogistics } from "@settlekit/core";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { paymentOrderSchema } from "../src/schemas.js";
import {
  asBuyer,
  asOperator,
  asSeller,
  MATRIX,
  paymentBody,
  referenceOf,
  suiteWorld,
  webhookDelivery,
} from "./support/world.js";

const DAY = 86_400_000;
let keys = 0;

type Paid = { id: string; orders: { id: string; seller_id: string }[] };

const sellerFulfilment = (seller: string, order: string) =>
  `/v1/sellers/${seller}/payment-orders/${order}/fulfilment`;
const operatorFulfilment = (order: string) => `/v1/operator/payment-orders/${order}/fulfilment`;

describe.each(MATRIX)("fulfilment on %s over %s (payout hold: 14 days after delivery)", (dialect, mode) => {
  const world = suiteWorld(dialect, {
    mode,
    system: {
      fees: commissionAndLogistics({ commissionBasisPoints: 1_000, logistics: { USD: 500n } }),
      payoutHold: { afterDeliveryMs: 14 * DAY },
    },
  });
  const deliver = webhookDelivery(world);

  async function paid(): Promise<Paid> {
    const created = await request(world.app)
      .post("/v1/payments")
      .set(asBuyer("B1"))
      .set("Idempotency-Key", `fulfil-key-${++keys}`)
      .send(paymentBody());
    expect(created.status).toBe(201);
    await world.sandbox.pay(referenceOf(created.body as { redirect_url?: unknown }));
    await deliver();
    return created.body as Paid;
  }
  const post = (path: string, auth: Record<string, string>, body?: object) => {
    const req = request(world.app).post(path).set(auth);
    return body === undefined ? req.send() : req.send(body);
  };
  const iso = (ms: number) => new Date(world.clock.now().getTime() + ms).toISOString();

  it("a seller reports shipment, then delivery; the share is held until 14 days after delivery", async () => {
    const payment = await paid();
    const order = payment.orders[0]!.id;
    world.clock.advance(3_600_000);
    const shippedAt = iso(-60_000);
    const shipped = await post(sellerFulfilment("S1", order), asSeller("S1"), { shipped_at: shippedAt });
    expect(shipped.status).toBe(200);
    expect(paymentOrderSchema.parse(shipped.body)).toMatchObject({
      id: order,
      status: "fulfilled",
      shipped_at: shippedAt,
      delivered_at: null,
      available_at: null,
      released_at: null,
    });
    world.clock.advance(2 * DAY);
    // An offset instead of Z is RFC 3339 too.
    const deliveredAt = new Date(world.clock.now().getTime() - 3_600_000);
    const withOffset = `${new Date(deliveredAt.getTime() + 2 * 3_600_000).toISOString().slice(0, 19)}+02:00`;
    const reported = await post(operatorFulfilment(order), asOperator, { delivered_at: withOffset });
    expect(reported.status).toBe(200);
    expect(reported.body).toMatchObject({
      shipped_at: shippedAt,
      delivered_at: deliveredAt.toISOString(),
      available_at: new Date(deliveredAt.getTime() + 14 * DAY).toISOString(),
      released_at: null,
    });
    // Again, the same dates: the same answer.
    const again = await post(sellerFulfilment("S1", order), asSeller("S1"), {
      shipped_at: shippedAt,
      delivered_at: deliveredAt.toISOString(),
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(reported.body);
    world.clock.advance(14 * DAY);
    expect(await world.system.releaseDueOrders()).toMatchObject({ released: 1 });
    const released = await post(sellerFulfilment("S1", order), asSeller("S1"), {});
    expect(released.status).toBe(200);
    expect(released.body.released_at).toBe(world.clock.now().toISOString());
  });

  it("answers 400 with the param for a bad, future or too early date, and changes nothing", async () => {
    const payment = await paid();
    const order = payment.orders[0]!.id;
    world.clock.advance(60_000);
    const cases: [object, string][] = [
      [{ shipped_at: "yesterday" }, "shipped_at"],
      [{ shipped_at: "2026-03-01" }, "shipped_at"],
      [{ delivered_at: "2026-03-01T12:00:00" }, "delivered_at"], // no offset
      [{ delivered_at: 1_772_366_400_000 }, "delivered_at"],
      [{ shipped_at: iso(DAY) }, "shipped_at"],
      [{ delivered_at: iso(-DAY) }, "delivered_at"], // before the payment
      [{ shipped_at: iso(-1_000), delivered_at: iso(-2_000) }, "delivered_at"],
    ];
    for (const [body, param] of cases) {
      const res = await post(sellerFulfilment("S1", order), asSeller("S1"), body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toMatchObject({ code: "validation_failed", param });
    }
    const unknown = await post(sellerFulfilment("S1", order), asSeller("S1"), { shipped: iso(0) });
    expect(unknown.status).toBe(400);
    expect((await world.system.getPaymentOrder(order)).status).toBe("succeeded");
  });

  it("lets a seller fulfil only their own orders, and the operator any", async () => {
    const payment = await paid();
    const [mine, theirs] = payment.orders.map((o) => o.id);
    // S2's order under S1's own namespace: unknown to S1.
    const other = await post(sellerFulfilment("S1", theirs!), asSeller("S1"), {});
    expect(other.status).toBe(404);
    // Another seller's namespace: refused whatever it holds.
    expect((await post(sellerFulfilment("S2", theirs!), asSeller("S1"), {})).status).toBe(403);
    expect((await post(sellerFulfilment("S1", mine!), {}, {})).status).toBe(401);
    for (const auth of [{}, asBuyer(), asSeller("S1")]) {
      expect((await post(operatorFulfilment(mine!), auth, {})).status).toBe(403);
    }
    expect((await post(operatorFulfilment("po_nobody"), asOperator, {})).status).toBe(404);
    const byOperator = await post(operatorFulfilment(theirs!), asOperator);
    expect(byOperator.status).toBe(200);
    expect(byOperator.body).toMatchObject({ id: theirs, status: "fulfilled", seller_id: "S2" });
  });
});
