import { describe, expect, it } from "vitest";
import { sweepPendingRefunds } from "../../src/background/refund-sweeper.js";
import type { World } from "../support/world.js";
import { cart, makeWorld, referenceOf } from "../support/world.js";

const HOUR = 3_600_000;

/** A paid two-seller payment (S1 100.00, S2 23.45), its webhooks delivered. */
async function paid(world: World) {
  const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
  await world.psp.pay(referenceOf(created.payment), "succeeded");
  await world.deliver();
  const [s1] = created.payment.orders.map((o) => o.id);
  return { id: created.payment.id, s1: s1! };
}

/** A refund of 10.00 of S1's order the PSP holds `pending` (no webhook yet). */
async function pendingRefund(world: World) {
  const { id, s1 } = await paid(world);
  world.psp.holdNextRefund();
  const refund = await world.system.refund({ paymentOrderId: s1, amount: 1_000n }, { idempotencyKey: "r1" });
  expect(refund).toMatchObject({ status: "pending" });
  return { id, refund };
}

const refundOf = async (world: World, paymentId: string) =>
  (await world.system.getPayment(paymentId)).refunds[0]!;

/** Drops every webhook the PSP sent so far (lost on the way). */
const drop = async (world: World) => void (await world.psp.webhooks());

describe("refund sweeper (memory store, fake PSP)", () => {
  it("completes a refund whose webhook was lost, as the webhook would have (ledger and payment)", async () => {
    const world = makeWorld();
    const { id, refund } = await pendingRefund(world);
    await world.psp.settleRefund(refund.pspRefundReference!, "succeeded");
    await drop(world);
    // Not before `refundSweepAfterMs` (1 h): the webhook may still come.
    world.clock.advance(HOUR - 1);
    await world.work();
    expect(world.psp.refundLookups()).toBe(0);
    world.clock.advance(2);
    await world.work();
    expect(await refundOf(world, id)).toMatchObject({ status: "succeeded", amount: 1_000n });
    expect(await world.system.getPayment(id)).toMatchObject({
      status: "partially_refunded",
      refundedAmount: 1_000n,
    });
    const balances = await world.balances();
    expect(balances).toMatchObject({ "psp:fake:receivable USD": 11_345n, "seller:S1:pending USD": -9_000n });
    // The webhook arrives late after all: a duplicate of what the poll did, nothing moves twice.
    expect((await world.outboxTypes(id)).filter((t) => t.startsWith("refund."))).toEqual([
      "refund.succeeded",
    ]);
  });

  it("a late webhook after the poll changes nothing; a bounce afterwards reverses the refund", async () => {
    const world = makeWorld();
    const { id, refund } = await pendingRefund(world);
    await world.psp.settleRefund(refund.pspRefundReference!, "succeeded");
    const late = world.psp.pending().slice();
    await drop(world);
    world.clock.advance(HOUR + 1);
    await world.work();
    const after = await world.balances();
    for (const { rawBody } of late) {
      await world.system.handleWebhook("fake", {
        rawBody,
        headers: world.psp.sign(rawBody),
        now: world.clock.now(),
      });
    }
    expect(await world.balances()).toEqual(after);
    await world.psp.settleRefund(refund.pspRefundReference!, "failed");
    await world.deliver();
    expect(await refundOf(world, id)).toMatchObject({ status: "failed" });
    expect(await world.balances()).toMatchObject({
      "psp:fake:receivable USD": 12_345n,
      "seller:S1:pending USD": -10_000n,
    });
  });

  it("a refund that failed at the PSP fails here, nothing booked", async () => {
    const world = makeWorld();
    const { id, refund } = await pendingRefund(world);
    const before = await world.balances();
    await world.psp.settleRefund(refund.pspRefundReference!, "failed");
    await drop(world);
    world.clock.advance(HOUR + 1);
    await world.work();
    expect(await refundOf(world, id)).toMatchObject({ status: "failed" });
    expect(await world.balances()).toEqual(before);
    expect(await world.outboxTypes(id)).toContain("refund.failed");
  });

  it("a refund still pending at the PSP stays pending, polled again only after a backoff", async () => {
    const world = makeWorld();
    const { id } = await pendingRefund(world);
    world.clock.advance(HOUR + 1);
    await world.work();
    expect(world.psp.refundLookups()).toBe(1);
    // Further passes within the backoff (as long as it has waited: 1 h) do not ask again.
    for (let i = 0; i < 5; i++) {
      world.clock.advance(60_000);
      await world.work();
    }
    expect(world.psp.refundLookups()).toBe(1);
    world.clock.advance(HOUR);
    await world.work();
    expect(world.psp.refundLookups()).toBe(2);
    expect(await refundOf(world, id)).toMatchObject({ status: "pending" });
  });

  it("two sweepers at once poll a refund once", async () => {
    const world = makeWorld();
    await pendingRefund(world);
    world.clock.advance(HOUR + 1);
    const results = await Promise.all([
      sweepPendingRefunds(world.system.deps),
      sweepPendingRefunds(world.system.deps),
    ]);
    expect(results.map((r) => r.polled).sort()).toEqual([0, 1]);
    expect(world.psp.refundLookups()).toBe(1);
  });

  it("finds a refund whose answer was lost by settlekit's refund id, and completes it", async () => {
    const world = makeWorld();
    const { id, s1 } = await paid(world);
    world.psp.loseNextRefundAnswer();
    const refundRow = async () => (await world.store.transaction((tx) => tx.refunds.listByPayment(id)))[0]!;
    world.psp.holdNextRefund();
    const refund = await world.system.refund(
      { paymentOrderId: s1, amount: 1_000n },
      { idempotencyKey: "r1" },
    );
    expect(refund).toMatchObject({ status: "pending" });
    expect((await refundRow()).pspRefundReference).toBeUndefined();
    world.clock.advance(HOUR + 1);
    // The sweeper alone (no retry job in this pass): the PSP made it, under settlekit's id.
    expect(await sweepPendingRefunds(world.system.deps)).toMatchObject({ polled: 1, settled: 0 });
    const learnt = await refundRow();
    expect(learnt).toMatchObject({ status: "pending", pspRefundReference: expect.stringMatching(/^fre_/) });
    await world.psp.settleRefund(learnt.pspRefundReference!, "succeeded");
    await drop(world);
    world.clock.advance(2 * HOUR + 1);
    expect(await sweepPendingRefunds(world.system.deps)).toMatchObject({ polled: 1, settled: 1 });
    expect(await refundOf(world, id)).toMatchObject({ status: "succeeded" });
    expect(await world.balances()).toMatchObject({ "psp:fake:receivable USD": 11_345n });
  });

  it("leaves a refund the PSP never made to its retry job", async () => {
    const world = makeWorld();
    const { id, s1 } = await paid(world);
    const refund = await world.store.transaction(async (tx) => {
      // As phase 1 leaves it when the process dies before the PSP call.
      const order = (await tx.paymentOrders.get(s1))!;
      const r = {
        id: "rf_never",
        paymentId: id,
        paymentOrderId: order.id,
        amount: 500n,
        currency: "USD",
        status: "pending" as const,
        version: 1,
        createdAt: world.clock.now(),
        updatedAt: world.clock.now(),
      };
      await tx.refunds.insert(r);
      return r;
    });
    world.clock.advance(HOUR + 1);
    expect(await sweepPendingRefunds(world.system.deps)).toMatchObject({ polled: 1, settled: 0 });
    expect(await world.store.transaction((tx) => tx.refunds.get(refund.id))).toMatchObject({
      status: "pending",
      version: 1,
    });
  });
});
