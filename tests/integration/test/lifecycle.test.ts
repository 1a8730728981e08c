import { afterEach, describe, expect, it } from "vitest";
import type { World } from "./support/world.js";
import {
  balancesOf,
  cart,
  DELIVERY,
  DIALECTS,
  makeWorld,
  outboxTypesOf,
  referenceOf,
} from "./support/world.js";

describe.each(DIALECTS)("cash-in lifecycle on %s", (dialect) => {
  let world: World;
  afterEach(async () => world?.close());

  const balances = () => balancesOf(world);
  const outboxTypes = (checkoutId: string) => outboxTypesOf(world, checkoutId);

  it("card success for two sellers: state, ledger, outbox and the buyer email", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createCheckout(cart(), { idempotencyKey: "click-1" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status: "requires_payment",
      amount: "12345",
      currency: "USD",
      next_action: { type: "redirect_to_psp" },
      orders: [
        { seller_id: "S1", amount: "10000", status: "pending" },
        { seller_id: "S2", amount: "2345", status: "pending" },
      ],
    });
    expect(String(created.body.redirect_url)).toMatch(/^http:\/\/shop\.test\/sandbox\/pay\/\S+$/);
    const id = String(created.body.id);

    await world.sandbox.pay(referenceOf(created.body), { card: "4242 4242 4242 4242" });
    await world.deliver();

    const view = await world.system.getCheckout(id, { buyerId: "B1" });
    expect(view).toMatchObject({
      status: "succeeded",
      next_action: { type: "none" },
      failure_reason: null,
      // The host's estimate, fixed with the payment (the email below carries the same date).
      estimated_delivery_at: DELIVERY.toISOString(),
    });
    expect(created.body.estimated_delivery_at).toBeNull();
    expect((view.orders as { status: string }[]).map((o) => o.status)).toEqual(["succeeded", "succeeded"]);
    expect(await balances()).toEqual({
      "psp:sandbox:receivable USD": 12_345n,
      "seller:S1:pending USD": -10_000n,
      "seller:S2:pending USD": -2_345n,
    });
    expect(await outboxTypes(id)).toEqual(["checkout.created", "checkout.registered", "payment.succeeded"]);

    await world.work();
    expect(world.published.map((e) => e.type)).toEqual([
      "checkout.created",
      "checkout.registered",
      "payment.succeeded",
    ]);
    expect(world.notifications).toEqual([
      expect.objectContaining({
        kind: "payment_succeeded",
        checkoutId: id,
        buyerId: "B1",
        amount: 12_345n,
        currency: "USD",
        estimatedDeliveryAt: DELIVERY,
      }),
    ]);
    await expect(world.system.getCheckout(id, { buyerId: "B2" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it.each([
    ["4000 0000 0000 0002", "card_declined"],
    ["4000 0000 0000 9995", "insufficient_funds"],
  ])("a declined card (%s) fails with %s, posts nothing, and the buyer can retry", async (card, reason) => {
    world = await makeWorld(dialect);
    const created = await world.system.createCheckout(cart(), { idempotencyKey: "click-1" });
    const id = String(created.body.id);
    await world.sandbox.pay(referenceOf(created.body), { card });
    await world.deliver();
    const failed = await world.system.getCheckout(id);
    expect(failed).toMatchObject({
      status: "failed",
      failure_reason: reason,
      next_action: { type: "retry_payment" },
    });
    expect((failed.orders as { status: string }[]).map((o) => o.status)).toEqual(["failed", "failed"]);
    expect(await balances()).toEqual({});

    const retried = await world.system.retryPayment(id, { buyerId: "B1" });
    expect(retried).toMatchObject({ status: "requires_payment", failure_reason: null });
    expect(referenceOf(retried)).not.toBe(referenceOf(created.body));
    await world.sandbox.pay(referenceOf(retried));
    await world.deliver();
    expect(await world.system.getCheckout(id)).toMatchObject({ status: "succeeded" });
    expect(await balances()).toMatchObject({ "psp:sandbox:receivable USD": 12_345n });
    await world.work();
    expect(world.notifications.map((n) => n.kind)).toEqual(["payment_failed", "payment_succeeded"]);
  });

  it("bank transfer: processing is visible with instructions, then it settles", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createCheckout(cart({ method: "bank_transfer" }), {
      idempotencyKey: "k",
    });
    const id = String(created.body.id);
    await world.sandbox.pay(referenceOf(created.body), { method: "bank_transfer" });
    await world.deliver();
    expect(await world.system.getCheckout(id)).toMatchObject({
      status: "processing",
      next_action: { type: "wait", message: expect.stringContaining("bank transfer") },
    });
    expect(await balances()).toEqual({});
    world.clock.advance(30_000);
    await world.sandbox.tick();
    expect(await world.system.getCheckout(id)).toMatchObject({ status: "succeeded" });
    expect(await outboxTypes(id)).toEqual([
      "checkout.created",
      "checkout.registered",
      "payment.processing",
      "payment.succeeded",
    ]);
    await world.work();
    expect(world.notifications.map((n) => n.kind)).toEqual(["payment_pending", "payment_succeeded"]);
  });

  it("partial refund, then the rest, never more than captured", async () => {
    world = await makeWorld(dialect);
    const created = await world.system.createCheckout(cart(), { idempotencyKey: "k" });
    const id = String(created.body.id);
    await world.sandbox.pay(referenceOf(created.body));
    await world.deliver();
    const [first] = created.body.orders as { id: string }[];

    const partial = await world.system.refund(
      { paymentOrderId: first!.id, amount: 1_000n },
      { idempotencyKey: "r1" },
    );
    expect(partial).toMatchObject({ status: "succeeded", amount: "1000" });
    const again = await world.system.refund(
      { paymentOrderId: first!.id, amount: 1_000n },
      { idempotencyKey: "r1" },
    );
    expect(again).toEqual(partial);
    expect(await world.system.getCheckout(id)).toMatchObject({
      status: "partially_refunded",
      refunded_amount: "1000",
      orders: [{ refund_status: "partially_refunded", refunded_amount: "1000" }, { refund_status: "none" }],
    });
    await expect(
      world.system.refund({ paymentOrderId: first!.id, amount: 9_001n }, { idempotencyKey: "r2" }),
    ).rejects.toMatchObject({ code: "REFUND_EXCEEDS_CAPTURED", param: "amount" });
    const rest = await world.system.refund({ paymentOrderId: first!.id }, { idempotencyKey: "r3" });
    expect(rest).toMatchObject({ status: "succeeded", amount: "9000" });
    expect(await balances()).toEqual({
      "psp:sandbox:receivable USD": 2_345n,
      "seller:S1:pending USD": 0n,
      "seller:S2:pending USD": -2_345n,
    });
    expect((await outboxTypes(id)).filter((t) => t.startsWith("refund"))).toEqual([
      "refund.succeeded",
      "refund.succeeded",
    ]);
    expect(world.sandbox.refunds().map((r) => r.amount)).toEqual([1_000n, 9_000n]);
  });
});
