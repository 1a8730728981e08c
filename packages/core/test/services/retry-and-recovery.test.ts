import { describe, expect, it } from "vitest";
import type { Store } from "../../src/ports/store.js";
import { createPaymentSystem } from "../../src/system.js";
import { cart, makeWorld, referenceOf } from "../support/world.js";

describe("retryPayment (memory store, fake PSP)", () => {
  it("a declined payment gets a new attempt at the PSP and succeeds there", async () => {
    const world = makeWorld();
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    const id = created.payment.id;
    await world.psp.pay(referenceOf(created.payment), "declined");
    await world.deliver();
    const retried = await world.system.retryPayment(id, { buyerId: "B1", idempotencyKey: "retry-1" });
    expect(retried).toMatchObject({ status: "requires_payment", failureReason: undefined, attempt: 2 });
    expect(referenceOf(retried)).not.toBe(referenceOf(created.payment));
    expect(await world.psp.registrations()).toBe(2);
    // The same "try again" replayed: the same answer, no third attempt.
    expect(await world.system.retryPayment(id, { buyerId: "B1", idempotencyKey: "retry-1" })).toEqual(
      retried,
    );
    expect(await world.psp.registrations()).toBe(2);

    await world.psp.pay(referenceOf(retried), "succeeded");
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
    expect(await world.balances()).toMatchObject({ "psp:fake:receivable USD": 12_345n });
    const attempts = await world.system.listPaymentAttempts(id);
    expect(attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, "failed"],
      [2, "succeeded"],
    ]);
    await world.work();
    expect(world.notifications.map((n) => n.kind)).toEqual(["payment_failed", "payment_succeeded"]);
  });

  it("refuses to retry a payment that did not fail", async () => {
    const world = makeWorld();
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    await expect(world.system.retryPayment(created.payment.id)).rejects.toMatchObject({
      code: "INVALID_STATE_TRANSITION",
    });
    expect(await world.psp.registrations()).toBe(1);
  });
});

class Crash extends Error {}

/**
 * The store of a process that dies around its `at`-th transaction: `after` — it committed but the
 * caller never hears of it; `before` — the process died first, so it never happened.
 */
function crashing(store: Store, at: number, when: "before" | "after"): Store {
  let calls = 0;
  return {
    dialect: store.dialect,
    ledger: store.ledger,
    migrate: () => store.migrate(),
    migrateDown: () => store.migrateDown(),
    async transaction(fn, options) {
      calls++;
      if (calls === at && when === "before") throw new Crash(`crash before transaction ${at}`);
      const result = await store.transaction(fn, options);
      if (calls === at) throw new Crash(`crash after transaction ${at}`);
      return result;
    },
  };
}

describe("recovery of an interrupted creation (memory store, fake PSP)", () => {
  it("a creation that died after phase 1 is finished by the worker once its lease ran out", async () => {
    const world = makeWorld();
    const dying = createPaymentSystem({
      ...world.system.deps.options,
      store: crashing(world.store, 1, "after"),
    });
    await expect(dying.createPayment(cart(), { idempotencyKey: "k" })).rejects.toBeInstanceOf(Crash);
    expect(await world.store.inspect.count("payments")).toBe(1);
    expect(await world.psp.registrations()).toBe(0);

    // Within the dead request's lease the key is still in use.
    await expect(world.system.createPayment(cart(), { idempotencyKey: "k" })).rejects.toMatchObject({
      code: "IDEMPOTENCY_KEY_IN_USE",
    });
    world.clock.advance(61_000);
    await world.work();
    const [stalled] = await world.store.transaction((tx) => tx.payments.list({ limit: 1 }));
    const view = await world.system.getPayment(stalled!.id);
    expect(view).toMatchObject({ status: "requires_payment" });
    expect(await world.psp.registrations()).toBe(1);

    // The client's retry of the same key gets the finished answer.
    const retry = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    expect(retry).toMatchObject({ replayed: true, payment: { id: stalled!.id, status: "requires_payment" } });
    await world.psp.pay(referenceOf(view), "succeeded");
    await world.deliver();
    expect(await world.system.getPayment(stalled!.id)).toMatchObject({ status: "succeeded" });
    expect(await world.store.inspect.count("payments")).toBe(1);
    expect(await world.store.inspect.count("journals")).toBe(1);
    expect(await world.psp.registrations()).toBe(1);
  });

  it("a creation that died after the PSP registered it, before phase 3, reuses that registration", async () => {
    const world = makeWorld();
    const dying = createPaymentSystem({
      ...world.system.deps.options,
      store: crashing(world.store, 2, "before"),
    });
    // Transaction 1 is phase 1, 2 is phase 3 (the fake PSP answers before any lease renewal is due).
    await expect(dying.createPayment(cart(), { idempotencyKey: "k" })).rejects.toBeInstanceOf(Crash);
    expect(await world.psp.registrations()).toBe(1);
    const [stalled] = await world.store.transaction((tx) => tx.payments.list({ limit: 1 }));
    expect(stalled?.status).toBe("created");
    world.clock.advance(61_000);
    await world.work();
    const retry = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    expect(retry).toMatchObject({ replayed: true, payment: { id: stalled!.id, status: "requires_payment" } });
    expect(await world.psp.registrations()).toBe(1);
    expect(await world.store.inspect.count("payments")).toBe(1);
  });
});
