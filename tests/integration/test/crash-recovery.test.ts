import { createPaymentSystem, runWorkerPass } from "@settlekit/core";
import { afterEach, describe, expect, it } from "vitest";
import { Crash, crashing } from "./support/crashing-store.js";
import { jsonApi } from "./support/json-api.js";
import type { World } from "./support/world.js";
import { cart, DIALECTS, makeWorld, referenceOf } from "./support/world.js";

describe.each(DIALECTS)("crash recovery on %s", (dialect) => {
  let world: World;
  afterEach(async () => world?.close());

  // createPayment runs: transaction 1 (phase 1), the PSP call, transaction 2 (phase 3).
  const crashes: [string, number, "before" | "after"][] = [
    ["after phase 1 committed", 1, "after"],
    ["after the PSP registered, before phase 3", 2, "before"],
    ["after phase 3 committed", 2, "after"],
  ];

  it.each(crashes)(
    "a payment crashed %s reaches a definite state after restart, with nothing doubled",
    async (_name, at, when) => {
      world = await makeWorld(dialect);
      const dying = createPaymentSystem({
        ...world.system.deps.options,
        store: crashing(world.store, at, when),
      });
      await expect(dying.createPayment(cart(), { idempotencyKey: "k" })).rejects.toBeInstanceOf(Crash);

      // Restart: a fresh process runs the workers once the dead request's lock has expired.
      world.clock.advance(61_000);
      await world.work();
      const [row] = await world.store.knex("settlekit_payments").select("id");
      const id = String(row.id);
      const view = await world.system.getPayment(id);
      expect(view).toMatchObject({ status: "requires_payment" });
      expect(world.sandbox.payments()).toHaveLength(1);

      // The client's retry of the same key now gets the finished answer.
      const retry = await world.system.createPayment(cart(), { idempotencyKey: "k" });
      expect(retry).toMatchObject({ replayed: true, body: { id, status: "requires_payment" } });

      await world.sandbox.pay(referenceOf(view));
      await world.deliver();
      await world.work();
      expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
      expect(world.sandbox.payments()).toHaveLength(1);
      expect(Number((await world.store.knex("settlekit_payments").count({ n: "*" }))[0]?.n)).toBe(1);
      expect(Number((await world.store.knex("settlekit_journals").count({ n: "*" }))[0]?.n)).toBe(1);
      const totals = (await world.store.ledger.listBalances()).reduce((sum, b) => sum + b.balance, 0n);
      expect(totals).toBe(0n);
    },
  );

  it("a webhook whose handler crashed after committing is redelivered and changes nothing twice", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "k" });
    const dying = createPaymentSystem({
      ...world.system.deps.options,
      store: crashing(world.store, 1, "after"),
    });
    world.sandbox.faults.holdWebhooks();
    await world.sandbox.pay(referenceOf(created.body));
    const [event] = world.sandbox.events().slice(-1);
    await expect(
      dying.handleWebhook("sandbox", { rawBody: event!.rawBody, headers: event!.headers }),
    ).rejects.toBeInstanceOf(Crash);
    world.sandbox.faults.releaseWebhooks();
    await world.deliver();
    expect(await world.system.getPayment(String(created.body.id))).toMatchObject({ status: "succeeded" });
    expect(Number((await world.store.knex("settlekit_journals").count({ n: "*" }))[0]?.n)).toBe(1);
  });

  /**
   * The whole lifecycle — create, pay, webhook, worker pass, refund — run by a process that dies
   * at its n-th transaction (before or after the commit). A fresh process then recovers and the
   * client retries with the same keys: the end state is the same as without the crash, with one
   * PSP payment, one PSP refund, two journals and a balanced ledger.
   */
  const steps = Array.from({ length: 20 }, (_, i) => i + 1).flatMap((n) => [
    [n, "before"] as const,
    [n, "after"] as const,
  ]);
  it.each(steps)("the lifecycle converges after a crash at transaction %i (%s commit)", async (at, when) => {
    world = await makeWorld(dialect);
    world.sandbox.faults.holdWebhooks();
    const dying = createPaymentSystem({
      ...world.system.deps.options,
      store: crashing(world.store, at, when),
    });
    const lifecycle = async (sdk: typeof dying, deliverHeld: boolean) => {
      const system = jsonApi(sdk);
      const created = await system.createPayment(cart(), { idempotencyKey: "payment-1" });
      const id = String(created.body.id);
      let view = await system.getPayment(id);
      if (view.status === "requires_payment") await world.sandbox.pay(referenceOf(view));
      if (deliverHeld) {
        for (const event of world.sandbox.events()) {
          await system.handleWebhook("sandbox", { rawBody: event.rawBody, headers: event.headers });
        }
      }
      await runWorkerPass(sdk, "w");
      view = await system.getPayment(id);
      const [order] = view.orders as { id: string }[];
      await system.refund({ paymentOrderId: order!.id, amount: 1_000n }, { idempotencyKey: "refund-1" });
      return id;
    };
    let id: string | undefined;
    try {
      id = await lifecycle(dying, true);
    } catch (error) {
      if (!(error instanceof Crash)) throw error;
    }
    // Restart: the webhooks the dead process may have missed arrive again, workers recover.
    world.sandbox.faults.releaseWebhooks();
    await world.deliver();
    world.clock.advance(61_000);
    await world.work();
    id = await lifecycle(world.sdk, false);
    world.clock.advance(61_000);
    await world.work();

    expect(await world.system.getPayment(id)).toMatchObject({
      status: "partially_refunded",
      refunded_amount: "1000",
    });
    expect(world.sandbox.payments()).toHaveLength(1);
    expect(world.sandbox.refunds()).toHaveLength(1);
    expect(Number((await world.store.knex("settlekit_payments").count({ n: "*" }))[0]?.n)).toBe(1);
    expect(Number((await world.store.knex("settlekit_journals").count({ n: "*" }))[0]?.n)).toBe(2);
    const totals = (await world.store.ledger.listBalances()).reduce((sum, b) => sum + b.balance, 0n);
    expect(totals).toBe(0n);
  });
});
