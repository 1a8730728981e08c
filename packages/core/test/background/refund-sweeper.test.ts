import { describe, expect, it } from "vitest";
import { sweepPendingRefunds } from "../../src/background/refund-sweeper.js";
import { ErrorCodes } from "../../src/errors.js";
import { PspError } from "../../src/runtime/psp-error.js";
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

/**
 * A payment that expired here while its page stayed payable (the fake PSP cannot close pages),
 * then paid: a capture no payment order owns, refunded automatically by its job (run here).
 * `before` runs just before that job (to hold or lose the refund's answer).
 */
async function unownedCapture(world: World, before: () => void = () => undefined) {
  const created = await world.system.createPayment(cart(), { idempotencyKey: "click-1" });
  const id = created.payment.id;
  world.clock.advance(25 * HOUR);
  await world.work();
  expect((await world.system.getPayment(id)).status).toBe("expired");
  await world.psp.pay(referenceOf(created.payment), "succeeded");
  await world.deliver();
  expect(await world.outboxTypes(id)).toContain("payment.capture_unowned");
  before();
  await world.work();
  return id;
}

/** The attempt whose capture no payment order owns. */
const owedAttempt = async (world: World, paymentId: string) =>
  (await world.store.transaction((tx) => tx.paymentAttempts.listByPayment(paymentId))).find(
    (a) => a.unownedReason,
  )!;

/** Counts the refund calls that reach the PSP; `down` makes them fail before it (a 503). */
function countRefunds(world: World) {
  const refund = world.psp.provider.refund.bind(world.psp.provider);
  const state = { calls: 0, down: false };
  world.psp.provider.refund = async (input) => {
    if (state.down) throw new PspError(ErrorCodes.PSP_UNAVAILABLE, "retryable", "503 from the fake PSP.");
    state.calls++;
    return refund(input);
  };
  return state;
}

/** What a capture refund left behind: the attempt (less its bookkeeping), balances and events. */
async function outcome(world: World, paymentId: string) {
  const { version: _v, updatedAt: _u, ...attempt } = await owedAttempt(world, paymentId);
  return { attempt, balances: await world.balances(), events: await world.outboxTypes(paymentId) };
}

describe("refund sweeper: the automatic refunds of unowned captures (memory store, fake PSP)", () => {
  it.each(["succeeded", "failed"] as const)(
    "settles a capture refund %s at the PSP whose webhook was lost, exactly as the webhook would have",
    async (status) => {
      const run = async (lose: boolean) => {
        const world = makeWorld();
        const id = await unownedCapture(world, () => world.psp.holdNextRefund());
        const held = await owedAttempt(world, id);
        expect(held).toMatchObject({
          captureRefundStatus: "pending",
          captureRefundReference: expect.any(String),
        });
        await world.psp.settleRefund(held.captureRefundReference!, status);
        if (lose) await drop(world);
        else await world.deliver();
        // Not before `refundSweepAfterMs` (1 h) from its last change: the webhook may still come.
        world.clock.advance(HOUR - 1);
        await world.work();
        if (lose) {
          expect(world.psp.refundLookups()).toBe(0);
          expect(await owedAttempt(world, id)).toMatchObject({ captureRefundStatus: "pending" });
        }
        world.clock.advance(2);
        await world.work();
        return { world, id, end: await outcome(world, id) };
      };
      const delivered = await run(false);
      const lost = await run(true);
      expect(lost.world.psp.refundLookups()).toBe(1);
      expect(lost.end).toEqual(delivered.end);
      expect(lost.end.attempt.captureRefundStatus).toBe(status);
      if (status === "succeeded") {
        expect(lost.end.events).toContain("payment.capture_refunded");
        expect(lost.end.balances["platform:captures_to_return USD"] ?? 0n).toBe(0n);
        expect(lost.end.balances["psp:fake:receivable USD"] ?? 0n).toBe(0n);
      } else {
        // Left owed to the buyer for an operator, as a failed refund's webhook leaves it.
        expect(lost.end.events).toContain("payment.capture_refund_failed");
        expect(lost.end.balances["platform:captures_to_return USD"]).toBe(-12_345n);
        expect(lost.end.balances["psp:fake:receivable USD"]).toBe(12_345n);
      }
      // Polled once it settled: never again.
      lost.world.clock.advance(7 * HOUR);
      await lost.world.work();
      expect(lost.world.psp.refundLookups()).toBe(1);
    },
  );

  it("finds a capture refund whose answer (and webhook) was lost by settlekit's refund id, and completes it", async () => {
    const world = makeWorld();
    const refunds = countRefunds(world);
    const id = await unownedCapture(world, () => world.psp.loseNextRefundAnswer());
    await drop(world);
    expect(await owedAttempt(world, id)).toMatchObject({
      captureRefundStatus: "pending",
      captureRefundReference: undefined,
    });
    world.clock.advance(HOUR + 1);
    // The sweeper alone (no retry job in this pass): the PSP made it, under settlekit's refund id.
    expect(await sweepPendingRefunds(world.system.deps)).toEqual({
      polled: 1,
      settled: 1,
      capturesSettled: 1,
    });
    expect(await owedAttempt(world, id)).toMatchObject({
      captureRefundStatus: "succeeded",
      captureRefundReference: expect.stringMatching(/^fre_/),
    });
    expect(await world.outboxTypes(id)).toContain("payment.capture_refunded");
    expect((await world.balances())["platform:captures_to_return USD"] ?? 0n).toBe(0n);
    // The job's retry finds it done: nothing is sent again.
    world.clock.advance(HOUR);
    await world.work();
    expect(refunds.calls).toBe(1);
    expect(await world.system.listDeadLetters()).toEqual([]);
  });

  it("keeps the reference of a capture refund still pending at the PSP, polled again only after a backoff", async () => {
    const world = makeWorld();
    const id = await unownedCapture(world, () => {
      world.psp.holdNextRefund();
      world.psp.loseNextRefundAnswer();
    });
    world.clock.advance(HOUR + 1);
    expect(await sweepPendingRefunds(world.system.deps)).toEqual({
      polled: 1,
      settled: 0,
      capturesSettled: 0,
    });
    const learnt = await owedAttempt(world, id);
    expect(learnt).toMatchObject({
      captureRefundStatus: "pending",
      captureRefundReference: expect.stringMatching(/^fre_/),
    });
    // Further passes within the backoff (as long as it has waited since its last change) do not ask again.
    for (let i = 0; i < 5; i++) {
      world.clock.advance(60_000);
      await world.work();
    }
    expect(world.psp.refundLookups()).toBe(1);
    world.clock.advance(2 * HOUR);
    await world.work();
    expect(world.psp.refundLookups()).toBe(2);
    expect(await owedAttempt(world, id)).toMatchObject({ captureRefundStatus: "pending" });
    // Then it settles at the PSP, its webhook lost: the next poll, by the reference learnt, tells.
    await world.psp.settleRefund(learnt.captureRefundReference!, "succeeded");
    await drop(world);
    world.clock.advance(6 * HOUR);
    await world.work();
    expect(await owedAttempt(world, id)).toMatchObject({ captureRefundStatus: "succeeded" });
    expect((await world.balances())["platform:captures_to_return USD"] ?? 0n).toBe(0n);
  });

  it("two sweepers at once poll a capture refund once", async () => {
    const world = makeWorld();
    await unownedCapture(world, () => world.psp.holdNextRefund());
    world.clock.advance(HOUR + 1);
    const results = await Promise.all([
      sweepPendingRefunds(world.system.deps),
      sweepPendingRefunds(world.system.deps),
    ]);
    expect(results.map((r) => r.polled).sort()).toEqual([0, 1]);
    expect(world.psp.refundLookups()).toBe(1);
  });

  it("leaves a capture refund the PSP never made to its job while the job still retries", async () => {
    // A slow backoff: the job's retry is not due by the time the sweeper looks.
    const world = makeWorld({ backoff: { baseMs: 2 * HOUR, maxMs: 6 * HOUR, jitter: 0 } });
    const refunds = countRefunds(world);
    refunds.down = true;
    const id = await unownedCapture(world);
    world.clock.advance(HOUR + 1);
    refunds.down = false;
    expect(await sweepPendingRefunds(world.system.deps)).toEqual({
      polled: 1,
      settled: 0,
      capturesSettled: 0,
    });
    expect(refunds.calls).toBe(0);
    expect(await owedAttempt(world, id)).toMatchObject({ captureRefundStatus: "pending" });
    // The job's retry sends it.
    world.clock.advance(HOUR);
    await world.work();
    expect(refunds.calls).toBe(1);
    expect(await owedAttempt(world, id)).toMatchObject({ captureRefundStatus: "succeeded" });
  });

  it("enqueues the job of a capture refund the PSP never made when it is missing", async () => {
    const world = makeWorld();
    const { id } = await paid(world);
    // An attempt marked owed with no job behind it (as a store restored without its jobs leaves it).
    await world.store.transaction(async (tx) => {
      const [attempt] = await tx.paymentAttempts.listByPayment(id);
      await tx.paymentAttempts.update({
        ...attempt!,
        unownedReason: "review_rejected",
        captureRefundStatus: "pending",
        version: attempt!.version + 1,
      });
    });
    world.clock.advance(HOUR + 1);
    expect(await sweepPendingRefunds(world.system.deps)).toEqual({
      polled: 1,
      settled: 0,
      capturesSettled: 0,
    });
    await world.work();
    const [attempt] = await world.store.transaction((tx) => tx.paymentAttempts.listByPayment(id));
    expect(attempt).toMatchObject({
      captureRefundStatus: "succeeded",
      captureRefundReference: expect.stringMatching(/^fre_/),
    });
    expect(world.psp.refundLookups()).toBe(1);
  });

  it("sends a capture refund the PSP never made itself once its job is dead-lettered: the money is not left stuck", async () => {
    const world = makeWorld();
    const refunds = countRefunds(world);
    refunds.down = true;
    const id = await unownedCapture(world);
    // The PSP refuses every attempt of the job (20, backoff up to 1 min): a dead letter.
    for (let i = 0; i < 25; i++) {
      world.clock.advance(60_000);
      await world.work();
    }
    const [dead] = await world.system.listDeadLetters();
    expect(dead).toMatchObject({ type: "psp.refund_capture" });
    expect(await owedAttempt(world, id)).toMatchObject({ captureRefundStatus: "pending" });
    refunds.down = false;
    world.clock.advance(HOUR);
    await world.work();
    expect(refunds.calls).toBe(1);
    expect(await owedAttempt(world, id)).toMatchObject({
      captureRefundStatus: "succeeded",
      captureRefundReference: expect.stringMatching(/^fre_/),
    });
    expect(await world.outboxTypes(id)).toContain("payment.capture_refunded");
    expect((await world.balances())["platform:captures_to_return USD"] ?? 0n).toBe(0n);
    // An operator replaying the dead letter afterwards refunds nothing twice.
    await world.system.replayDeadLetter(dead!.id);
    await world.work();
    expect(refunds.calls).toBe(1);
  });
});
