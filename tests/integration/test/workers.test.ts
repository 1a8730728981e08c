import { createWorker, runWorkerPass } from "@settlekit/core";
import { afterEach, describe, expect, it } from "vitest";
import type { World } from "./support/world.js";
import { cart, DIALECTS, makeWorld, referenceOf } from "./support/world.js";

describe.each(DIALECTS)("background workers on %s", (dialect) => {
  let world: World;
  afterEach(async () => world?.close());

  it("a failing email sender is retried and never blocks the payment", async () => {
    let failures = 2;
    const sent: string[] = [];
    world = await makeWorld(dialect, {
      notifier: {
        notify: async (n) => {
          if (failures-- > 0) throw new Error("SMTP down");
          sent.push(n.kind);
        },
      },
    });
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    await world.sandbox.pay(referenceOf(created.body));
    await world.deliver();
    expect(await world.system.getPayment(String(created.body.id))).toMatchObject({ status: "succeeded" });
    expect((await world.work()).jobs).toMatchObject({ retried: 1 });
    world.clock.advance(1_000);
    expect((await world.work()).jobs).toMatchObject({ retried: 1 });
    world.clock.advance(2_000);
    expect((await world.work()).jobs).toMatchObject({ succeeded: 1 });
    expect(sent).toEqual(["payment_succeeded"]);
  });

  it("expires an abandoned payment and forgets idempotency keys after their TTL", async () => {
    world = await makeWorld(dialect, { paymentTtlMs: 3_600_000, idempotencyTtlMs: 86_400_000 });
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    const id = String(created.body.id);
    world.clock.advance(3_600_000);
    const pass = await world.work();
    expect(pass.sweep).toMatchObject({ polled: 1, expired: 1 });
    expect(await world.system.getPayment(id)).toMatchObject({
      status: "expired",
      failure_reason: "expired",
    });
    world.clock.advance(86_400_000);
    expect((await world.work()).expiredKeys).toBe(1);
    // The key is free again: the same key now starts a new payment.
    const again = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    expect(again.replayed).toBe(false);
    expect(again.body.id).not.toBe(id);
  });

  it("two worker instances share the work without doing anything twice", async () => {
    world = await makeWorld(dialect);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const created = await world.system.createPayment(cart({ buyerId: `B${i}` }), {
        idempotencyKey: `k${i}`,
      });
      ids.push(String(created.body.id));
      await world.sandbox.pay(referenceOf(created.body));
    }
    await world.deliver();
    const passes = await Promise.all([runWorkerPass(world.sdk, "w1"), runWorkerPass(world.sdk, "w2")]);
    const jobs = passes.reduce((sum, p) => sum + p.jobs.succeeded, 0);
    const published = passes.reduce((sum, p) => sum + p.relay.published, 0);
    expect(jobs).toBe(10);
    expect(world.notifications).toHaveLength(10);
    expect(new Set(world.notifications.map((n) => "paymentId" in n && n.paymentId)).size).toBe(10);
    expect(published).toBe(30);
    expect(new Set(world.published.map((e) => e.id)).size).toBe(30);
  });

  it("createWorker runs passes until stopped", async () => {
    let delivered!: (kind: string) => void;
    const sent = new Promise<string>((resolve) => {
      delivered = resolve;
    });
    world = await makeWorld(dialect, { notifier: { notify: async (n) => delivered(n.kind) } });
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    await world.sandbox.pay(referenceOf(created.body));
    await world.deliver();
    const worker = createWorker(world.sdk, { idleMs: 10 });
    worker.start();
    expect(await sent).toBe("payment_succeeded");
    await worker.stop();
    expect(world.published.map((e) => e.type)).toEqual([
      "payment.created",
      "payment.registered",
      "payment.succeeded",
    ]);
  });
});
