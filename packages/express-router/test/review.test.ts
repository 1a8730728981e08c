import { signSandboxWebhook } from "@settlekit/psp-sandbox";
import request from "supertest";
import { describe, expect, it } from "vitest";
import {
  asBuyer,
  asOperator,
  asSeller,
  MATRIX,
  paymentBody,
  referenceOf,
  suiteWorld,
  WEBHOOK_SECRET,
} from "./support/world.js";

let keys = 0;
const key = () => `review-key-${++keys}`;

describe.each(MATRIX)("POST /v1/operator/payments/:id/review on %s over %s", (dialect, mode) => {
  const world = suiteWorld(dialect, { mode });

  /** A payment whose correctly signed success reports an amount of 1: it lands in review. */
  async function inReview(): Promise<string> {
    const created = await request(world.app)
      .post("/v1/payments")
      .set(asBuyer("B1"))
      .set("Idempotency-Key", key())
      .send(paymentBody());
    expect(created.status).toBe(201);
    const before = world.sandbox.events().length;
    await world.sandbox.pay(referenceOf(created.body));
    const genuine = world.sandbox
      .events()
      .slice(before)
      .find((e) => e.type === "payment.succeeded")!;
    const body = JSON.parse(genuine.rawBody) as { data: { payment: Record<string, unknown> } };
    body.data.payment.amount = "1";
    const rawBody = JSON.stringify(body);
    const signature = signSandboxWebhook(
      WEBHOOK_SECRET,
      rawBody,
      Math.floor(world.clock.now().getTime() / 1000),
    );
    const res = await request(world.app)
      .post("/v1/webhooks/sandbox")
      .set("settlekit-sandbox-signature", signature)
      .set("Content-Type", "application/json")
      .send(rawBody);
    expect(res.status).toBe(200);
    const view = await request(world.app).get(`/v1/payments/${created.body.id}`).set(asBuyer("B1"));
    expect(view.body).toMatchObject({ status: "requires_review", review: { reason: "amount_mismatch" } });
    return String(created.body.id);
  }

  const review = (id: string, auth: Record<string, string>, body: object) =>
    request(world.app).post(`/v1/operator/payments/${id}/review`).set(auth).send(body);

  it("approve books the payment as succeeded; a second decision is a 409", async () => {
    const id = await inReview();
    const approved = await review(id, asOperator, { decision: "approve" });
    expect(approved.status).toBe(200);
    // The review stays on the payment as its history: what the PSP had reported.
    expect(approved.body).toMatchObject({ id, status: "succeeded", review: { reason: "amount_mismatch" } });
    const again = await review(id, asOperator, { decision: "reject" });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: "invalid_state_transition" });
  });

  it("reject cancels the payment with nothing booked", async () => {
    const id = await inReview();
    const rejected = await review(id, asOperator, { decision: "reject" });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ id, status: "canceled" });
  });

  it("is the operator's alone, and refuses a decision it does not know", async () => {
    const id = await inReview();
    expect((await review(id, asBuyer("B1"), { decision: "approve" })).status).toBe(403);
    expect((await review(id, asSeller("S1"), { decision: "approve" })).status).toBe(403);
    const bad = await review(id, asOperator, { decision: "maybe" });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ param: "decision" });
    const view = await request(world.app).get(`/v1/payments/${id}`).set(asBuyer("B1"));
    expect(view.body.status).toBe("requires_review");
  });

  it("answers 404 for an unknown payment and 409 for one not in review", async () => {
    expect((await review("pay_nope", asOperator, { decision: "approve" })).status).toBe(404);
    const created = await request(world.app)
      .post("/v1/payments")
      .set(asBuyer("B1"))
      .set("Idempotency-Key", key())
      .send(paymentBody());
    const notInReview = await review(String(created.body.id), asOperator, { decision: "approve" });
    expect(notInReview.status).toBe(409);
  });
});
