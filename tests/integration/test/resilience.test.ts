import { afterEach, describe, expect, it } from "vitest";
import type { World } from "./support/world.js";
import { cart, DIALECTS, makeWorld, referenceOf } from "./support/world.js";

describe.each(DIALECTS)("failure handling on %s", (dialect) => {
  let world: World;
  afterEach(async () => world?.close());
  const count = async (table: string) => Number((await world.store.knex(table).count({ n: "*" }))[0]?.n);

  it("64 concurrent identical payments (one key) make one payment and one PSP registration", async () => {
    world = await makeWorld(dialect);
    const results = await Promise.allSettled(
      Array.from({ length: 64 }, () =>
        world.system.createPayment(cart(), { idempotencyKey: "double-click" }),
      ),
    );
    const ok = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const rejected = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    expect(rejected.every((e) => e.code === "IDEMPOTENCY_KEY_IN_USE")).toBe(true);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(new Set(ok.map((r) => r.body.id)).size).toBe(1);
    expect(ok.filter((r) => !r.replayed)).toHaveLength(1);
    expect(await count("settlekit_payments")).toBe(1);
    expect(world.sandbox.payments()).toHaveLength(1);
    // Once finished, every retry replays the stored answer.
    const replay = await world.system.createPayment(cart(), { idempotencyKey: "double-click" });
    expect(replay).toMatchObject({ replayed: true, status: 201, body: { id: ok[0]!.body.id } });
  });

  it("rejects a reused key with a different request, and scopes keys per buyer", async () => {
    world = await makeWorld(dialect);
    await world.system.createPayment(cart(), { idempotencyKey: "k" });
    await expect(
      world.system.createPayment(cart({ metadata: { cart: "other" } }), { idempotencyKey: "k" }),
    ).rejects.toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED" });
    const otherBuyer = await world.system.createPayment(cart({ buyerId: "B2" }), { idempotencyKey: "k" });
    expect(otherBuyer.replayed).toBe(false);
    expect(await count("settlekit_payments")).toBe(2);
  });

  it.each([
    ["duplicated", (w: World) => w.sandbox.faults.duplicateNextWebhook()],
    ["reordered", (w: World) => w.sandbox.faults.holdWebhooks()],
  ])("%s webhooks end in the same state as clean delivery", async (_name, fault) => {
    world = await makeWorld(dialect);
    const created = await world.system.createPayment(cart({ method: "bank_transfer" }), {
      idempotencyKey: "k",
    });
    fault(world);
    await world.sandbox.pay(referenceOf(created.body), { method: "bank_transfer" });
    world.clock.advance(30_000);
    await world.sandbox.tick();
    world.sandbox.faults.releaseWebhooks({ order: "reverse" });
    await world.deliver();
    expect(await world.system.getPayment(String(created.body.id))).toMatchObject({ status: "succeeded" });
    expect(await count("settlekit_journals")).toBe(1);
    const balance = await world.store.ledger.getBalance("psp:sandbox:receivable", "USD");
    expect(balance.balance).toBe(12_345n);
  });

  it("a dropped webhook is recovered by the pending sweeper", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    world.sandbox.faults.dropNextWebhook();
    await world.sandbox.pay(referenceOf(created.body));
    await world.deliver();
    const id = String(created.body.id);
    expect(await world.system.getPayment(id)).toMatchObject({ status: "requires_payment" });
    await world.work(); // not stale yet
    expect(await world.system.getPayment(id)).toMatchObject({ status: "requires_payment" });
    world.clock.advance(15 * 60_000 + 1);
    const pass = await world.work();
    expect(pass.sweep).toMatchObject({ polled: 1, changed: 1 });
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
    expect(await count("settlekit_journals")).toBe(1);
  });

  it("an event for a payment not known yet is kept and applied later", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    world.sandbox.faults.holdWebhooks();
    await world.sandbox.pay(referenceOf(created.body));
    // Simulate the event arriving before settlekit stored the PSP reference.
    const id = String(created.body.id);
    await world.store.knex("settlekit_payments").where({ id }).update({ psp_reference: null });
    const attempts = world.store.knex("settlekit_payment_attempts");
    await attempts.clone().where({ payment_id: id }).update({ psp_reference: "not-yet" });
    world.sandbox.faults.releaseWebhooks();
    await world.deliver();
    expect(await count("settlekit_webhook_events")).toBe(1);
    expect((await world.store.knex("settlekit_webhook_events").first()).status).toBe("pending");
    await world.store
      .knex("settlekit_payments")
      .where({ id })
      .update({ psp_reference: referenceOf(created.body) });
    await attempts
      .clone()
      .where({ payment_id: id })
      .update({ psp_reference: referenceOf(created.body) });
    const pass = await world.work();
    expect(pass.webhooks).toBe(1);
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
  });

  it("closes an event for a payment it never learns about after an hour, with the reason", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    world.sandbox.faults.holdWebhooks();
    await world.sandbox.pay(referenceOf(created.body));
    await world.store
      .knex("settlekit_payments")
      .where({ id: String(created.body.id) })
      .update({ psp_reference: "other" });
    await world.store
      .knex("settlekit_payment_attempts")
      .where({ payment_id: String(created.body.id) })
      .update({ psp_reference: "other" });
    world.sandbox.faults.releaseWebhooks();
    await world.deliver();
    expect((await world.work()).webhooks).toBe(0);
    expect((await world.store.knex("settlekit_webhook_events").first()).status).toBe("pending");
    world.clock.advance(3_600_000);
    await world.work();
    expect(await world.store.knex("settlekit_webhook_events").first()).toMatchObject({
      status: "processed",
      last_error: "gave up: unknown payment",
    });
    expect(await world.store.transaction((tx) => tx.webhookEvents.listPending({ limit: 10 }))).toEqual([]);
  });

  it("PSP 503 three times, then success: registered by the retry job with backoff", async () => {
    world = await makeWorld(dialect);
    world.sandbox.faults.failNextRegistrations(4, "503");
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    expect(created).toMatchObject({
      status: 202,
      body: { status: "created", next_action: { type: "wait" } },
    });
    const id = String(created.body.id);
    for (const wait of [0, 1_000, 2_000]) {
      world.clock.advance(wait);
      expect((await world.work()).jobs).toMatchObject({ claimed: 1, retried: 1 });
    }
    world.clock.advance(4_000);
    expect((await world.work()).jobs).toMatchObject({ claimed: 1, succeeded: 1 });
    const view = await world.system.getPayment(id);
    expect(view).toMatchObject({ status: "requires_payment", next_action: { type: "redirect_to_psp" } });
    expect(world.sandbox.payments()).toHaveLength(1);
  });

  it("PSP 503 forever: dead letter after N attempts, payment failed; replay registers it", async () => {
    world = await makeWorld(dialect, { registrationMaxAttempts: 3 });
    world.sandbox.faults.failNextRegistrations(4, "503");
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    const id = String(created.body.id);
    for (let i = 0; i < 3; i++) {
      await world.work();
      world.clock.advance(60_000);
    }
    const dead = await world.system.listDeadLetters();
    expect(dead.map((j) => [j.type, j.history.length])).toEqual([["psp.register", 3]]);
    expect(await world.system.getPayment(id)).toMatchObject({
      status: "failed",
      failure_reason: "psp_unavailable",
    });
    await expect(world.system.replayDeadLetter("no-such-job")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await world.system.replayDeadLetter(dead[0]!.id);
    await world.work();
    const view = await world.system.getPayment(id);
    expect(view).toMatchObject({ status: "requires_payment" });
    await world.sandbox.pay(referenceOf(view));
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
  });

  it("a PSP timeout whose registration did happen is settled with the same PSP payment", async () => {
    world = await makeWorld(dialect);
    world.sandbox.faults.failNextRegistrations(1, "timeout");
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    expect(created.status).toBe(202);
    await world.work();
    expect(await world.system.getPayment(String(created.body.id))).toMatchObject({
      status: "requires_payment",
    });
    expect(world.sandbox.payments()).toHaveLength(1);
  });

  it("polls a payment that keeps waiting less and less often", async () => {
    world = await makeWorld(dialect);
    await world.system.createPayment(cart(), { idempotencyKey: "k" });
    world.clock.advance(16 * 60_000);
    expect((await world.work()).sweep.polled).toBe(1);
    expect((await world.work()).sweep.polled).toBe(0);
    world.clock.advance(15 * 60_000);
    expect((await world.work()).sweep.polled).toBe(0);
    world.clock.advance(60_000);
    expect((await world.work()).sweep.polled).toBe(1);
  });

  it("a success on the PSP's page after a decline is picked up even when its webhook is lost", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    const id = String(created.body.id);
    await world.sandbox.pay(referenceOf(created.body), { card: "4000 0000 0000 0002" });
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "failed" });
    world.sandbox.faults.dropNextWebhook();
    await world.sandbox.pay(referenceOf(created.body), { card: "4242 4242 4242 4242" });
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "failed" });
    world.clock.advance(16 * 60_000);
    expect((await world.work()).sweep).toMatchObject({ changed: 1 });
    expect(await world.system.getPayment(id)).toMatchObject({
      status: "succeeded",
      failure_reason: null,
    });
    expect(Number((await world.store.knex("settlekit_journals").count({ n: "*" }))[0]?.n)).toBe(1);
  });
});
