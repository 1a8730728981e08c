import request from "supertest";
import { describe, expect, it } from "vitest";
import { disputeListSchema, disputeSchema } from "../src/schemas.js";
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

describe.each(MATRIX)("operator dispute routes on %s over %s", (dialect, mode) => {
  const world = suiteWorld(dialect, { mode });
  /** Hands the sandbox's new events to the router's webhook route, as the PSP would. */
  const deliver = webhookDelivery(world);
  async function disputedPayment(n: number) {
    const created = await request(world.app)
      .post("/v1/payments")
      .set(asBuyer())
      .set("Idempotency-Key", `dispute-${n}`)
      .send(paymentBody());
    expect(created.status).toBe(201);
    const reference = referenceOf(created.body);
    await world.sandbox.pay(reference);
    const dispute = await world.sandbox.openDispute(reference, { amount: 1_000n + BigInt(n) });
    await deliver();
    return { paymentId: String(created.body.id), dispute };
  }

  it("refuses anyone but an operator with 403, before looking anything up", async () => {
    for (const path of ["/v1/operator/disputes", "/v1/operator/disputes/dp_1"]) {
      for (const auth of [{}, asBuyer(), asSeller("S1")]) {
        const res = await request(world.app).get(path).set(auth);
        expect(res.status, `${path} ${JSON.stringify(auth)}`).toBe(403);
        expect(res.body.error).toMatchObject({ type: "permission_error", code: "forbidden" });
      }
    }
  });

  it("lists disputes newest first with their evidence deadline, pages, filters, and shows one", async () => {
    const first = await disputedPayment(1);
    const second = await disputedPayment(2);
    await world.sandbox.loseDispute(first.dispute.disputeReference);
    await deliver();

    const all = await request(world.app).get("/v1/operator/disputes").set(asOperator);
    expect(all.status).toBe(200);
    const list = disputeListSchema.parse(all.body);
    expect(list.data.map((d) => d.payment_id)).toEqual([second.paymentId, first.paymentId]);
    expect(list.data[0]).toMatchObject({
      status: "needs_response",
      amount: "1002",
      fee: "1500",
      evidence_due_by: second.dispute.evidenceDueBy.toISOString(),
    });

    const page = await request(world.app).get("/v1/operator/disputes?limit=1").set(asOperator);
    expect(page.body).toMatchObject({ has_more: true, data: [{ payment_id: second.paymentId }] });
    const next = await request(world.app)
      .get(`/v1/operator/disputes?limit=1&starting_after=${page.body.data[0].id}`)
      .set(asOperator);
    expect(next.body).toMatchObject({ has_more: false, data: [{ payment_id: first.paymentId }] });
    const lost = await request(world.app).get("/v1/operator/disputes?status=lost").set(asOperator);
    expect(lost.body.data.map((d: { status: string }) => d.status)).toEqual(["lost"]);

    const one = await request(world.app).get(`/v1/operator/disputes/${list.data[1]!.id}`).set(asOperator);
    expect(one.status).toBe(200);
    expect(disputeSchema.parse(one.body)).toMatchObject({ status: "lost", payment_id: first.paymentId });
  });

  it("answers 404 for an unknown or malformed id and 400 for a bad query", async () => {
    for (const id of ["dp_unknown", "not%20an%20id"]) {
      const res = await request(world.app).get(`/v1/operator/disputes/${id}`).set(asOperator);
      expect(res.status, id).toBe(404);
    }
    for (const query of ["status=open", "limit=0", "limit=101", "surprise=1"]) {
      const res = await request(world.app).get(`/v1/operator/disputes?${query}`).set(asOperator);
      expect(res.status, query).toBe(400);
    }
  });
});
