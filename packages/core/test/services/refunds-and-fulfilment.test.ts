import { describe, expect, it } from "vitest";
import { commissionAndLogistics } from "../../src/runtime/fees.js";
import type { World } from "../support/world.js";
import { cart, makeWorld, referenceOf } from "../support/world.js";

/** A paid two-seller payment (S1 100.00, S2 23.45), its webhooks delivered. */
async function paid(world: World) {
  const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
  await world.psp.pay(referenceOf(created.payment), "succeeded");
  await world.deliver();
  const [s1, s2] = created.payment.orders.map((o) => o.id);
  return { id: created.payment.id, ref: referenceOf(created.payment), s1: s1!, s2: s2! };
}

describe("refunds (memory store, fake PSP)", () => {
  it("refunds part, replays the same key, refuses more than captured, then refunds the rest", async () => {
    const world = makeWorld();
    const { id, ref, s1 } = await paid(world);
    const partial = await world.system.refund(
      { paymentOrderId: s1, amount: 1_000n },
      { idempotencyKey: "r1" },
    );
    expect(partial).toMatchObject({
      status: "succeeded",
      amount: 1_000n,
      currency: "USD",
      paymentOrderId: s1,
    });
    const again = await world.system.refund({ paymentOrderId: s1, amount: 1_000n }, { idempotencyKey: "r1" });
    expect(again).toEqual(partial);
    expect(await world.system.getPayment(id)).toMatchObject({
      status: "partially_refunded",
      refundedAmount: 1_000n,
      orders: [{ refundStatus: "partially_refunded", refundedAmount: 1_000n }, { refundStatus: "none" }],
      refunds: [{ id: partial.id, amount: 1_000n, status: "succeeded" }],
    });
    await expect(
      world.system.refund({ paymentOrderId: s1, amount: 9_001n }, { idempotencyKey: "r2" }),
    ).rejects.toMatchObject({ code: "REFUND_EXCEEDS_CAPTURED", param: "amount" });
    const rest = await world.system.refund({ paymentOrderId: s1 }, { idempotencyKey: "r3" });
    expect(rest).toMatchObject({ status: "succeeded", amount: 9_000n });
    expect((await world.psp.provider.retrievePayment({ pspReference: ref })).amountRefunded).toBe(10_000n);
    // The PSP's refund webhooks arrive afterwards and change nothing more.
    await world.deliver();
    expect(await world.balances()).toEqual({
      "psp:fake:receivable USD": 2_345n,
      "seller:S1:pending USD": 0n,
      "seller:S2:pending USD": -2_345n,
    });
    expect((await world.outboxTypes(id)).filter((t) => t.startsWith("refund"))).toEqual([
      "refund.succeeded",
      "refund.succeeded",
    ]);
  });

  it("refuses to refund an unpaid payment's order", async () => {
    const world = makeWorld();
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    const [order] = created.payment.orders;
    await expect(
      world.system.refund({ paymentOrderId: order!.id }, { idempotencyKey: "r1" }),
    ).rejects.toMatchObject({ code: "INVALID_STATE_TRANSITION" });
    expect(await world.store.inspect.count("refunds")).toBe(0);
    expect(await world.store.inspect.count("journals")).toBe(0);
  });
});

describe("fulfilment (memory store, fake PSP)", () => {
  const fees = commissionAndLogistics({ commissionBasisPoints: 1_000, logistics: { USD: 500n } });

  it("moves the seller's share to available less commission and logistics, once", async () => {
    const world = makeWorld({ fees });
    const { s1 } = await paid(world);
    const fulfilled = await world.system.fulfilOrder({ paymentOrderId: s1 }, { sellerId: "S1" });
    expect(fulfilled).toMatchObject({ id: s1, status: "fulfilled", sellerId: "S1", amount: 10_000n });
    expect(fulfilled.fulfilledAt).toEqual(world.clock.now());
    expect(await world.balances()).toEqual({
      "psp:fake:receivable USD": 12_345n,
      "seller:S1:pending USD": 0n,
      "seller:S1:available USD": -8_500n,
      "platform:commission USD": -1_000n,
      "platform:logistics USD": -500n,
      "seller:S2:pending USD": -2_345n,
    });
    expect(await world.system.sellerWallet("S1")).toEqual({
      sellerId: "S1",
      balances: [
        {
          currency: "USD",
          pending: 0n,
          pendingReleases: [],
          available: 8_500n,
          held: 0n,
          reserved: 0n,
          paidOut: 0n,
        },
      ],
    });
    const journals = await world.store.inspect.count("journals");
    expect(await world.system.fulfilOrder({ paymentOrderId: s1 })).toEqual(fulfilled);
    expect(await world.store.inspect.count("journals")).toBe(journals);
  });

  it("refuses another seller's order and an unpaid order", async () => {
    const world = makeWorld({ fees });
    const { s1 } = await paid(world);
    await expect(world.system.fulfilOrder({ paymentOrderId: s1 }, { sellerId: "S2" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    const unpaid = await world.system.createPayment(cart(), { idempotencyKey: "click-2" });
    const [order] = unpaid.payment.orders;
    await expect(world.system.fulfilOrder({ paymentOrderId: order!.id })).rejects.toMatchObject({
      code: "INVALID_STATE_TRANSITION",
    });
  });
});
