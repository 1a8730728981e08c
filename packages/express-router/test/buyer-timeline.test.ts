import { commissionAndLogistics } from "@settlekit/core";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { asBuyer, MATRIX, paymentBody, referenceOf, suiteWorld, webhookDelivery } from "./support/world.js";

/** 10 % commission and a 5.00 USD logistics fee per fulfilled order. */
const fees = commissionAndLogistics({ commissionBasisPoints: 1_000, logistics: { USD: 500n } });

/** Names of fields that carry the platform's or the seller's side of the money. */
const INTERNAL = /^(commission|logistics|net|fees?|psp_fee|seller_net)$/;

/** Every key of a JSON value, at any depth. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);
}

describe.each(MATRIX)("a buyer's payment timeline on %s over %s", (dialect, mode) => {
  const world = suiteWorld(dialect, { mode, system: { fees } });
  const deliver = webhookDelivery(world);

  it("GET /v1/payments/:id/events after fulfilment has no commission, logistics or net fields", async () => {
    const created = await request(world.app)
      .post("/v1/payments")
      .set(asBuyer("B1"))
      .set("Idempotency-Key", "timeline-1")
      .send(paymentBody());
    expect(created.status).toBe(201);
    await world.sandbox.pay(referenceOf(created.body));
    await deliver();
    const [s1] = created.body.orders as { id: string }[];
    await world.system.fulfilOrder({ paymentOrderId: s1!.id });

    const res = await request(world.app).get(`/v1/payments/${created.body.id}/events`).set(asBuyer("B1"));
    expect(res.status).toBe(200);
    const fulfilled = (res.body.data as { type: string; data: object }[]).find(
      (e) => e.type === "payment_order.fulfilled",
    );
    expect(fulfilled?.data).toMatchObject({ id: s1!.id, status: "fulfilled", amount: "10000" });
    expect(keysOf(res.body).filter((k) => INTERNAL.test(k))).toEqual([]);

    // The operator's view through core keeps them (the router has no operator timeline route).
    const operator = await world.system.listPaymentEvents(String(created.body.id));
    const internal = operator.data.find((e) => e.type === "payment_order.fulfilled")?.data;
    expect(internal).toMatchObject({ commission: "1000", logistics: "500", net: "8500" });
  });
});
