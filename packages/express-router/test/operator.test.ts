import request from "supertest";
import { describe, expect, it } from "vitest";
import { deadLetterListSchema, paymentAttemptListSchema, paymentSummaryListSchema } from "../src/schemas.js";
import { asBuyer, asOperator, MATRIX, paymentBody, suiteWorld } from "./support/world.js";

describe.each(MATRIX)("operator routes on %s over %s", (dialect, mode) => {
  const world = suiteWorld(dialect, { mode });

  /** A job that failed for good: enqueued, claimed, failed without a retry. */
  async function deadJob(id: string) {
    const now = world.clock.now();
    await world.store.transaction((tx) =>
      tx.jobs.enqueue({ id, type: "notify.test", payload: { n: 1 } }, now),
    );
    await world.store.transaction((tx) =>
      tx.jobs.claim({ workerId: "w", limit: 10, now, leaseUntil: new Date(now.getTime() + 1_000) }),
    );
    await world.store.transaction((tx) =>
      tx.jobs.fail({ id, workerId: "w", now, error: "boom", retryAt: null }),
    );
  }

  it("refuses buyers and anonymous callers with 403", async () => {
    for (const path of ["/v1/operator/payments", "/v1/operator/dead-letters"]) {
      expect((await request(world.app).get(path)).status).toBe(403);
      const buyer = await request(world.app).get(path).set(asBuyer());
      expect(buyer.status).toBe(403);
      expect(buyer.body.error).toMatchObject({ type: "permission_error", code: "forbidden" });
    }
    expect((await request(world.app).post("/v1/operator/dead-letters/j1/replay").set(asBuyer())).status).toBe(
      403,
    );
  });

  it("searches payments by buyer and status, newest first, paged", async () => {
    for (const [buyer, n] of [
      ["B1", 3],
      ["B2", 1],
    ] as const) {
      for (let i = 0; i < n; i++) {
        const res = await request(world.app)
          .post("/v1/payments")
          .set(asBuyer(buyer))
          .set("Idempotency-Key", `search-${buyer}-${i}`)
          .send(paymentBody());
        expect(res.status).toBe(201);
      }
    }
    const all = await request(world.app).get("/v1/operator/payments").set(asOperator);
    expect(all.status).toBe(200);
    expect(paymentSummaryListSchema.parse(all.body).data).toHaveLength(4);
    const page = await request(world.app)
      .get("/v1/operator/payments?buyer_id=B1&status=requires_payment&limit=2")
      .set(asOperator);
    expect(page.body).toMatchObject({ has_more: true, data: [{ buyer_id: "B1" }, { buyer_id: "B1" }] });
    const next = await request(world.app)
      .get(`/v1/operator/payments?buyer_id=B1&limit=2&starting_after=${page.body.data[1].id}`)
      .set(asOperator);
    expect(next.body).toMatchObject({ has_more: false, data: [{ buyer_id: "B1" }] });
    for (const query of ["status=nope", "limit=0", "limit=abc", "limit=1&limit=2", "surprise=1"]) {
      const res = await request(world.app).get(`/v1/operator/payments?${query}`).set(asOperator);
      expect(res.status, query).toBe(400);
    }
  });

  it("lists dead letters with their history and replays one (then it is no longer dead)", async () => {
    await deadJob("job-dead-1");
    const list = await request(world.app).get("/v1/operator/dead-letters").set(asOperator);
    expect(list.status).toBe(200);
    expect(deadLetterListSchema.parse(list.body).data).toEqual([
      expect.objectContaining({ id: "job-dead-1", status: "dead", last_error: "boom", attempts: 1 }),
    ]);
    const replay = await request(world.app)
      .post("/v1/operator/dead-letters/job-dead-1/replay")
      .set(asOperator);
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual({ id: "job-dead-1", object: "job", status: "queued" });
    expect((await world.store.transaction((tx) => tx.jobs.get("job-dead-1")))?.status).toBe("queued");
    const again = await request(world.app)
      .post("/v1/operator/dead-letters/job-dead-1/replay")
      .set(asOperator);
    expect(again.status).toBe(404);
    expect((await request(world.app).get("/v1/operator/dead-letters").set(asOperator)).body.data).toEqual([]);
  });

  it("lists a payment's PSP attempts: the declined page closed by the retry, then the new one", async () => {
    const created = await request(world.app)
      .post("/v1/payments")
      .set(asBuyer())
      .set("Idempotency-Key", "attempts-1")
      .send(paymentBody());
    const id = String(created.body.id);
    const first = String(created.body.redirect_url).split("/pay/")[1]!;
    await world.sandbox.pay(first, { card: "4000 0000 0000 0002" });
    const declined = world.sandbox.events().at(-1)!;
    await request(world.app)
      .post("/v1/webhooks/sandbox")
      .set("Content-Type", "application/json")
      .set(declined.headers)
      .send(declined.rawBody);
    const retried = await request(world.app)
      .post(`/v1/payments/${id}/retry`)
      .set(asBuyer())
      .set("Idempotency-Key", "attempts-retry-1");
    expect(retried.status).toBe(200);
    const res = await request(world.app).get(`/v1/operator/payments/${id}/attempts`).set(asOperator);
    expect(res.status).toBe(200);
    const list = paymentAttemptListSchema.parse(res.body);
    expect(list.data).toEqual([
      expect.objectContaining({
        attempt: 1,
        psp_reference: first,
        status: "canceled",
        closed_at: expect.any(String),
        amount: "12345",
        unowned_capture: null,
      }),
      expect.objectContaining({ attempt: 2, status: "requires_payment", closed_at: null }),
    ]);
    expect((await request(world.app).get(`/v1/operator/payments/${id}/attempts`).set(asBuyer())).status).toBe(
      403,
    );
    const missing = await request(world.app).get("/v1/operator/payments/pay_nope/attempts").set(asOperator);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: "not_found" });
  });
});
