import { afterEach, describe, expect, it } from "vitest";
import type { World } from "./support/world.js";
import {
  balancesOf,
  cart,
  DIALECTS,
  makeWorld,
  outboxTypesOf,
  referenceOf,
  unownedCaptureWorld,
} from "./support/world.js";

const HOUR = 3_600_000;

describe.each(DIALECTS)("refunds whose webhook is lost, on %s", (dialect) => {
  let world: World;
  afterEach(async () => world?.close());

  const balances = () => balancesOf(world);

  /** A paid two-seller payment (S1 100.00, S2 23.45) and a refund of 40.00 of S1's order the sandbox holds pending. */
  async function pendingRefund() {
    world = await makeWorld(dialect);
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    const pspReference = referenceOf(created.body);
    await world.sandbox.pay(pspReference, { card: "4242 4242 4242 4242" });
    await world.deliver();
    const [s1] = (created.body.orders as { id: string }[]).map((o) => o.id);
    world.sandbox.faults.holdNextRefunds(1);
    const refund = await world.system.refund(
      { paymentOrderId: s1!, amount: 4_000n },
      { idempotencyKey: "r1" },
    );
    expect(refund).toMatchObject({ status: "pending", amount: "4000" });
    return { id: String(created.body.id), pspReference, refundId: String(refund.id) };
  }

  const refundStatus = async (paymentId: string) =>
    ((await world.system.getPayment(paymentId)).refunds as { status: string }[])[0]?.status;

  it("the refund sweeper completes a refund the PSP settled: ledger, wallet and the PSP agree", async () => {
    const { id, pspReference } = await pendingRefund();
    // The PSP settles the refund; its webhook never arrives.
    world.sandbox.faults.dropNextWebhook();
    world.sandbox.faults.settleHeldRefunds("succeeded");
    await world.deliver();
    expect(await refundStatus(id)).toBe("pending");
    world.clock.advance(HOUR + 1);
    expect((await world.work()).refundSweep).toEqual({ polled: 1, settled: 1, capturesSettled: 0 });
    expect(await refundStatus(id)).toBe("succeeded");
    expect(await world.system.getPayment(id)).toMatchObject({
      status: "partially_refunded",
      refunded_amount: "4000",
    });
    expect(await balances()).toEqual({
      "psp:sandbox:receivable USD": 8_345n,
      "seller:S1:pending USD": -6_000n,
      "seller:S2:pending USD": -2_345n,
    });
    expect(await world.system.sellerWallet("S1")).toMatchObject({
      balances: [{ currency: "USD", pending: "6000", available: "0" }],
    });
    // What the PSP kept equals what the ledger says it holds for the payment.
    const atPsp = await world.sandbox.retrievePayment({ pspReference });
    expect(atPsp.amount - atPsp.amountRefunded).toBe(8_345n);
    expect((await outboxTypesOf(world, id)).filter((t) => t.startsWith("refund."))).toEqual([
      "refund.succeeded",
    ]);
    // Nothing left to poll: later passes ask nothing more.
    world.clock.advance(7 * HOUR);
    expect((await world.work()).refundSweep).toEqual({ polled: 0, settled: 0, capturesSettled: 0 });
  });

  it("a refund the PSP failed fails here with nothing booked; one still pending stays pending", async () => {
    const { id } = await pendingRefund();
    world.clock.advance(HOUR + 1);
    expect((await world.work()).refundSweep).toEqual({ polled: 1, settled: 0, capturesSettled: 0 });
    expect(await refundStatus(id)).toBe("pending");
    world.sandbox.faults.dropNextWebhook();
    world.sandbox.faults.settleHeldRefunds("failed");
    await world.deliver();
    // Within the backoff (as long as the refund has waited) nothing is asked again.
    world.clock.advance(30 * 60_000);
    expect((await world.work()).refundSweep).toEqual({ polled: 0, settled: 0, capturesSettled: 0 });
    world.clock.advance(HOUR);
    expect((await world.work()).refundSweep).toEqual({ polled: 1, settled: 1, capturesSettled: 0 });
    expect(await refundStatus(id)).toBe("failed");
    expect(await balances()).toEqual({
      "psp:sandbox:receivable USD": 12_345n,
      "seller:S1:pending USD": -10_000n,
      "seller:S2:pending USD": -2_345n,
    });
    expect(await outboxTypesOf(world, id)).toContain("refund.failed");
  });

  /**
   * A PSP that cannot close pages: the buyer pays the retried page, then the old one (a second
   * tab); the second capture's automatic refund is held pending at the sandbox. The payment, the
   * old page, and the sandbox's refund reference.
   */
  async function heldCaptureRefund() {
    const made = await unownedCaptureWorld(dialect);
    world = made.world;
    const { id, first } = made;
    world.sandbox.faults.holdNextRefunds(1);
    await world.work(); // the refund job: answered pending
    const [held] = world.sandbox.refunds();
    expect(held).toMatchObject({ pspReference: first, amount: 12_345n, status: "pending" });
    return { id, first };
  }

  const ONE_SALE = {
    "psp:sandbox:receivable USD": 12_345n,
    "seller:S1:pending USD": -10_000n,
    "seller:S2:pending USD": -2_345n,
  };

  it("the refund sweeper completes the automatic refund of an unowned capture whose webhook was lost", async () => {
    const { id } = await heldCaptureRefund();
    world.sandbox.faults.dropNextWebhook();
    world.sandbox.faults.settleHeldRefunds("succeeded");
    await world.deliver();
    expect(await balances()).toMatchObject({ "platform:captures_to_return USD": -12_345n });
    world.clock.advance(HOUR + 1);
    expect((await world.work()).refundSweep).toEqual({ polled: 1, settled: 1, capturesSettled: 1 });
    // One sale in the ledger, nothing owed back: the PSP holds exactly that sale.
    expect(await balances()).toEqual({ ...ONE_SALE, "platform:captures_to_return USD": 0n });
    expect(await outboxTypesOf(world, id)).toContain("payment.capture_refunded");
    world.clock.advance(7 * HOUR);
    expect((await world.work()).refundSweep).toEqual({ polled: 0, settled: 0, capturesSettled: 0 });
  });

  it("an automatic capture refund the PSP failed stays owed for an operator; one still pending is polled after a backoff", async () => {
    const { id } = await heldCaptureRefund();
    world.clock.advance(HOUR + 1);
    expect((await world.work()).refundSweep).toEqual({ polled: 1, settled: 0, capturesSettled: 0 });
    world.sandbox.faults.dropNextWebhook();
    world.sandbox.faults.settleHeldRefunds("failed");
    await world.deliver();
    world.clock.advance(30 * 60_000);
    expect((await world.work()).refundSweep).toEqual({ polled: 0, settled: 0, capturesSettled: 0 });
    world.clock.advance(HOUR);
    expect((await world.work()).refundSweep).toEqual({ polled: 1, settled: 1, capturesSettled: 1 });
    expect(await balances()).toEqual({
      ...ONE_SALE,
      "psp:sandbox:receivable USD": 24_690n,
      "platform:captures_to_return USD": -12_345n,
    });
    expect(await outboxTypesOf(world, id)).toContain("payment.capture_refund_failed");
  });
});
