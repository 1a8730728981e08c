import { describe, expect, it } from "vitest";
import type { World } from "../support/world.js";
import { cart, makeWorld, referenceOf } from "../support/world.js";

async function registeredPayment(world: World) {
  const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
  return { id: created.payment.id, ref: referenceOf(created.payment) };
}

describe("handleWebhook (memory store, fake PSP)", () => {
  it("a success: both orders paid, the journal posted, the outbox event and the buyer's email", async () => {
    const world = makeWorld();
    const { id, ref } = await registeredPayment(world);
    await world.psp.pay(ref, "succeeded");
    await world.deliver();
    const view = await world.system.getPayment(id, { buyerId: "B1" });
    expect(view).toMatchObject({
      status: "succeeded",
      nextAction: { type: "none" },
      failureReason: undefined,
    });
    expect(view.orders.map((o) => o.status)).toEqual(["succeeded", "succeeded"]);
    expect(await world.balances()).toEqual({
      "psp:fake:receivable USD": 12_345n,
      "seller:S1:pending USD": -10_000n,
      "seller:S2:pending USD": -2_345n,
    });
    expect(await world.outboxTypes(id)).toEqual([
      "payment.created",
      "payment.registered",
      "payment.succeeded",
    ]);
    await world.work();
    expect(world.published.map((e) => e.type)).toEqual([
      "payment.created",
      "payment.registered",
      "payment.succeeded",
    ]);
    expect(world.notifications).toEqual([
      expect.objectContaining({ kind: "payment_succeeded", paymentId: id, buyerId: "B1", amount: 12_345n }),
    ]);
  });

  it.each([
    ["declined", "card_declined"],
    ["insufficient_funds", "insufficient_funds"],
  ] as const)("a %s card fails the payment with %s and posts nothing", async (outcome, reason) => {
    const world = makeWorld();
    const { id, ref } = await registeredPayment(world);
    await world.psp.pay(ref, outcome);
    await world.deliver();
    const view = await world.system.getPayment(id);
    expect(view).toMatchObject({
      status: "failed",
      failureReason: reason,
      nextAction: { type: "retry_payment" },
    });
    expect(view.orders.map((o) => o.status)).toEqual(["failed", "failed"]);
    expect(await world.balances()).toEqual({});
    await world.work();
    expect(world.notifications.map((n) => n.kind)).toEqual(["payment_failed"]);
  });

  it("a duplicate delivery is acknowledged and changes nothing", async () => {
    const world = makeWorld();
    const { id, ref } = await registeredPayment(world);
    await world.psp.pay(ref, "succeeded");
    const [webhook] = world.psp.pending();
    await world.deliver();
    const journals = await world.store.inspect.count("journals");
    const outbox = await world.store.inspect.count("outbox");
    const again = await world.system.handleWebhook("fake", { ...webhook!, now: world.clock.now() });
    expect(again).toEqual({ received: 1, duplicates: 1, deferred: 0 });
    expect(await world.store.inspect.count("journals")).toBe(journals);
    expect(await world.store.inspect.count("outbox")).toBe(outbox);
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
    expect((await world.balances())["psp:fake:receivable USD"]).toBe(12_345n);
  });

  it("processing, then the money arrives: one success, one journal", async () => {
    const world = makeWorld();
    const { id, ref } = await registeredPayment(world);
    await world.psp.pay(ref, "processing");
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "processing" });
    expect(await world.balances()).toEqual({});
    await world.psp.settle(ref);
    await world.deliver();
    expect(await world.system.getPayment(id)).toMatchObject({ status: "succeeded" });
    expect(await world.store.inspect.count("journals")).toBe(1);
  });

  it("refuses a webhook whose signature does not verify, storing nothing", async () => {
    const world = makeWorld();
    const { ref } = await registeredPayment(world);
    await world.psp.pay(ref, "succeeded");
    const [webhook] = await world.psp.webhooks();
    const forged = {
      rawBody: webhook!.rawBody,
      headers: world.psp.sign(webhook!.rawBody, { secret: "other" }),
    };
    await expect(world.system.handleWebhook("fake", forged)).rejects.toMatchObject({
      code: "WEBHOOK_SIGNATURE_INVALID",
    });
    expect(await world.store.inspect.count("webhook_events")).toBe(0);
    expect(await world.store.inspect.count("journals")).toBe(0);
  });
});
