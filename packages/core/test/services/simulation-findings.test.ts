import { describe, expect, it } from "vitest";
import type { Refund } from "../../src/domain/refund.js";
import { ErrorCodes } from "../../src/errors.js";
import type { RefundInput } from "../../src/ports/psp.js";
import { PspError } from "../../src/runtime/psp-error.js";
import type { World } from "../support/world.js";
import { cart, makeWorld, referenceOf } from "../support/world.js";

/**
 * Regressions for what the deterministic simulator (tests/simulation) found: each test replays
 * the path of one failing seed on the memory store and the fake PSP.
 */

const HOUR = 3_600_000;
const timeout = () => new PspError(ErrorCodes.PSP_TIMEOUT, "indeterminate", "the answer was lost");

async function paid(world: World) {
  const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
  await world.psp.pay(referenceOf(created.payment), "succeeded");
  await world.deliver();
  return { id: created.payment.id, ref: referenceOf(created.payment), orders: created.payment.orders };
}

/**
 * settlekit refunds 1 000 of the order while the PSP does not answer (`down`), then a refund made
 * at the dashboard arrives: it waits for that answer.
 */
async function refundWithoutAnswer(world: World, paymentId: string, paymentOrderId: string) {
  const refund = world.psp.provider.refund.bind(world.psp.provider);
  const state = { down: true };
  world.psp.provider.refund = async (input: RefundInput) => {
    if (state.down) throw timeout();
    return refund(input);
  };
  await world.system
    .refundPayment(paymentId, { paymentOrderId, amount: 1_000n }, { idempotencyKey: "r1" })
    .catch(() => undefined);
  return state;
}

/** Refunded amounts by origin (an external refund is split over the orders). */
const byOrigin = (refunds: readonly Refund[]) => {
  const sums: Record<string, bigint> = {};
  for (const r of refunds) sums[r.origin ?? "settlekit"] = (sums[r.origin ?? "settlekit"] ?? 0n) + r.amount;
  return sums;
};

/** A refund made in the PSP's dashboard, as the fake PSP reports one (no settlekit refund id). */
function dashboardRefund(world: World, ref: string, amount: bigint) {
  const rawBody = JSON.stringify({
    id: "evt_dashboard_1",
    type: "refund",
    created: world.clock.now().toISOString(),
    data: { pspReference: ref, refundReference: "fre_dashboard_1", amount: String(amount), currency: "USD" },
  });
  return world.system.handleWebhook("fake", {
    rawBody,
    headers: { "content-type": "application/json", ...world.psp.sign(rawBody) },
  });
}

describe("what the simulator found (memory store, fake PSP)", () => {
  it("keeps a dashboard refund deferred behind a refund awaiting its PSP answer past the webhook TTL, and books it", async () => {
    const world = makeWorld();
    const { id, ref, orders } = await paid(world);
    // settlekit's own refund: the PSP does not answer for over an hour (seed 10).
    const psp = await refundWithoutAnswer(world, id, orders[0]!.id);
    expect(await dashboardRefund(world, ref, 500n)).toMatchObject({ deferred: 1 });
    for (let i = 0; i < 3; i++) {
      world.clock.advance(HOUR);
      await world.work();
    }
    psp.down = false;
    world.clock.advance(HOUR);
    await world.work();
    await world.deliver();
    await world.work();
    const details = await world.system.getPayment(id);
    expect(byOrigin(details.refunds)).toEqual({ settlekit: 1_000n, external: 500n });
    expect(details.refunds.every((r) => r.status === "succeeded")).toBe(true);
    expect(details.refundedAmount).toBe(1_500n);
  });

  it("tries a deferred webhook once more before giving it up, however late the worker runs", async () => {
    const world = makeWorld();
    const { id, ref, orders } = await paid(world);
    const psp = await refundWithoutAnswer(world, id, orders[0]!.id);
    expect(await dashboardRefund(world, ref, 500n)).toMatchObject({ deferred: 1 });
    // The worker was down for two hours; in its first pass the refund gets its answer, then the
    // deferred event applies (it used to be given up unread).
    psp.down = false;
    world.clock.advance(2 * HOUR);
    await world.work();
    expect(byOrigin((await world.system.getPayment(id)).refunds)).toEqual({
      settlekit: 1_000n,
      external: 500n,
    });
  });

  it("finds a capture on an old page of a PSP that cannot close pages before the payment expires", async () => {
    const world = makeWorld();
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    const first = referenceOf(created.payment);
    await world.psp.pay(first, "declined");
    await world.deliver();
    const retried = await world.system.retryPayment(created.payment.id, { idempotencyKey: "retry-1" });
    expect(referenceOf(retried)).not.toBe(first);
    // The buyer pays the old page; its webhook never arrives (seed 58).
    await world.psp.pay(first, "succeeded");
    await world.psp.webhooks();
    world.clock.advance(25 * HOUR);
    await world.work();
    expect(await world.system.getPayment(created.payment.id)).toMatchObject({
      status: "succeeded",
      pspReference: first,
    });
    expect((await world.balances())["psp:fake:receivable USD"]).toBe(12_345n);
  });

  it("raises no external-refund discrepancy for the automatic refund of a capture after expiry reported before its answer", async () => {
    const world = makeWorld();
    const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
    const ref = referenceOf(created.payment);
    world.clock.advance(25 * HOUR);
    await world.work();
    expect((await world.system.getPayment(created.payment.id)).status).toBe("expired");
    // The page outlived the payment (a PSP that cannot close pages) and is paid (seed 93).
    const refund = world.psp.provider.refund.bind(world.psp.provider);
    let lose = true;
    world.psp.provider.refund = async (input: RefundInput) => {
      const result = await refund(input);
      if (lose) {
        lose = false;
        throw timeout(); // done at the PSP, the answer lost: its webhook comes first
      }
      return result;
    };
    await world.psp.pay(ref, "succeeded");
    await world.deliver();
    await world.work();
    await world.deliver();
    world.clock.advance(HOUR);
    await world.work();
    await world.work();
    const types = await world.outboxTypes(created.payment.id);
    expect(types).toContain("payment.capture_refunded");
    expect(types).not.toContain("refund.external_discrepancy");
    expect((await world.balances())["platform:captures_to_return USD"] ?? 0n).toBe(0n);
  });
});
