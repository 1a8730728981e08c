import type { PaymentSystemOptions, Payout } from "@settlekit/core";
import { commissionAndLogistics, createPaymentSystem } from "@settlekit/core";
import { afterEach, describe, expect, it } from "vitest";
import { Crash, crashing } from "./support/crashing-store.js";
import type { PayoutFaultControl } from "./support/payout-faults.js";
import { payoutFaults } from "./support/payout-faults.js";
import type { World } from "./support/world.js";
import { balancesOf, cart, DIALECTS, makeWorld, referenceOf } from "./support/world.js";

/** 10 % commission and a 5.00 USD logistics fee per fulfilled order. */
const fees = commissionAndLogistics({ commissionBasisPoints: 1_000, logistics: { USD: 500n } });

describe.each(DIALECTS)("payouts on %s", (dialect) => {
  let world: World;
  let faults: PayoutFaultControl;
  afterEach(async () => world?.close());

  async function open(overrides: Partial<PaymentSystemOptions> = {}) {
    world = await makeWorld(
      dialect,
      { fees, backoff: { baseMs: 1_000, maxMs: 1_000, jitter: 0 }, ...overrides },
      {
        wrapProvider: (provider) => {
          const wrapped = payoutFaults(provider);
          faults = wrapped.control;
          return wrapped.provider;
        },
      },
    );
  }

  /** A paid two-seller payment (S1 100.00, S2 23.45), fulfilled: S1 has 85.00 available. */
  async function fulfilledSale(amount = 10_000n): Promise<{ paymentId: string; s1: string }> {
    const created = await world.sdk.createPayment(
      cart({
        orders: [
          { sellerId: "S1", amount },
          { sellerId: "S2", amount: 2_345n },
        ],
      }),
      { idempotencyKey: `click-${Math.random()}` },
    );
    await world.sandbox.pay(referenceOf({ redirect_url: created.payment.redirectUrl }), {});
    await world.deliver();
    const details = await world.sdk.getPayment(created.payment.id);
    const s1 = details.orders[0]!.id;
    await world.sdk.fulfilOrder({ paymentOrderId: s1 });
    return { paymentId: created.payment.id, s1 };
  }

  /** Runs the worker until nothing is due, moving the clock past each backoff. */
  async function drain(rounds = 20) {
    for (let i = 0; i < rounds; i++) {
      const pass = await world.work();
      world.clock.advance(2_000);
      if (pass.jobs.claimed === 0 && pass.relay.published === 0) break;
    }
  }

  /** What the sandbox paid, per seller. */
  const paidAtPsp = (sellerId: string) =>
    world.sandbox
      .payouts()
      .filter((p) => p.sellerId === sellerId)
      .reduce((sum, p) => sum + p.amount, 0n);

  /** Every check that holds after any payout history. */
  async function expectConsistent(sellerId: string) {
    const balances = await balancesOf(world);
    const byCurrency = new Map<string, bigint>();
    for (const [key, balance] of Object.entries(balances)) {
      const currency = key.split(" ")[1]!;
      byCurrency.set(currency, (byCurrency.get(currency) ?? 0n) + balance);
    }
    for (const [currency, sum] of byCurrency) expect(sum, currency).toBe(0n);
    const wallet = await world.sdk.sellerWallet(sellerId);
    for (const b of wallet.balances) expect(b.reserved, b.currency).toBeGreaterThanOrEqual(0n);
    const paid = await world.sdk.listSellerPayouts(sellerId, { statuses: ["paid"] });
    // What the PSP sent equals what settlekit says it paid out.
    expect(paidAtPsp(sellerId)).toBe(paid.data.reduce((sum, p) => sum + p.amount, 0n));
    for (const payout of (await world.sdk.listSellerPayouts(sellerId)).data) {
      const { lines } = await world.sdk.getPayout(payout.id);
      expect(
        lines.reduce((sum, l) => sum + l.amount, 0n),
        payout.id,
      ).toBe(payout.sourceAmount);
    }
  }

  it("pays a seller's available money once, explained journal by journal", async () => {
    await open();
    const { s1 } = await fulfilledSale();
    const { payouts, skipped } = await world.sdk.requestPayout({ sellerId: "S1" });
    expect(skipped).toEqual([]);
    expect(payouts).toHaveLength(1);
    const payout = payouts[0]!;
    expect(payout).toMatchObject({
      sellerId: "S1",
      status: "paid",
      amount: 8_500n,
      currency: "USD",
      sourceAmount: 8_500n,
      trigger: "manual",
      attempts: 1,
    });
    expect(payout.id).toMatch(/^pout_[0-9a-f]{32}$/);
    const details = await world.sdk.getPayout(payout.id);
    expect(details.lines).toEqual([
      expect.objectContaining({ journalReference: `fulfilled:${s1}`, kind: "fulfilled", amount: 8_500n }),
    ]);
    expect(await world.sdk.sellerWallet("S1")).toMatchObject({
      balances: [{ currency: "USD", pending: 0n, available: 0n, reserved: 0n, paidOut: 8_500n }],
    });
    expect(paidAtPsp("S1")).toBe(8_500n);
    // Nothing left: a second request reserves nothing, and says so.
    expect(await world.sdk.requestPayout({ sellerId: "S1" })).toEqual({
      payouts: [],
      skipped: [{ currency: "USD", reason: "nothing_available", available: 0n }],
    });
    const types = (await world.sdk.listSellerTransactions("S1")).data.map((t) => t.type);
    expect(types).toEqual(["sale", "fee", "payout", "payout"]);
    await drain();
    const published = world.published.filter((e) => e.aggregateType === "payout").map((e) => e.type);
    expect(published).toEqual(["payout.created", "payout.paid"]);
    expect(world.notifications).toContainEqual(
      expect.objectContaining({ kind: "payout_paid", payoutId: payout.id, sellerId: "S1", amount: 8_500n }),
    );
    await expectConsistent("S1");
  });

  it("releases a refused payout with the reason, in the wallet, and pays the money in the next payout", async () => {
    await open();
    await fulfilledSale();
    faults.next("account_closed");
    const [failed] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts as Payout[];
    expect(failed).toMatchObject({ status: "failed", failureCode: "account_closed" });
    expect(failed!.failureMessage).toMatch(/bank account is closed.*included in your next payout/);
    expect(await world.sdk.sellerWallet("S1")).toMatchObject({
      balances: [
        {
          available: 8_500n,
          reserved: 0n,
          paidOut: 0n,
          payoutNotice: { payoutId: failed!.id, code: "account_closed" },
        },
      ],
    });
    expect(paidAtPsp("S1")).toBe(0n);
    const [next] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    expect(next).toMatchObject({ status: "paid", amount: 8_500n });
    const { lines } = await world.sdk.getPayout(next!.id);
    // The sale was the failed payout's line; what this one pays is that payout's released money.
    expect(lines.map((l) => [l.kind, l.journalReference, l.amount])).toEqual([
      ["payout_released", `payout:${failed!.id}:released`, 8_500n],
    ]);
    await drain();
    expect(world.notifications).toContainEqual(
      expect.objectContaining({ kind: "payout_failed", payoutId: failed!.id, reason: "account_closed" }),
    );
    expect((await world.sdk.sellerWallet("S1")).balances[0]!.payoutNotice).toBeUndefined();
    await expectConsistent("S1");
  });

  it("retries a PSP that is down with backoff, then dead-letters the payout and releases its money", async () => {
    await open({ payoutMaxAttempts: 3 });
    await fulfilledSale();
    faults.next("retryable", "retryable", "retryable", "retryable");
    const [payout] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    expect(payout).toMatchObject({ status: "pending", attempts: 1, pspOutcomeUnknown: false });
    expect(payout!.lastError).toMatch(/503/);
    expect(await world.sdk.sellerWallet("S1")).toMatchObject({
      balances: [{ available: 0n, reserved: 8_500n }],
    });
    await drain();
    const { payout: failed } = await world.sdk.getPayout(payout!.id);
    expect(failed).toMatchObject({ status: "failed", failureCode: "psp_unavailable" });
    expect(failed.failureMessage).toMatch(/could not be reached/);
    expect(await world.sdk.listDeadLetters({ type: "payout.send" })).toHaveLength(1);
    expect(await world.sdk.sellerWallet("S1")).toMatchObject({
      balances: [{ available: 8_500n, reserved: 0n, payoutNotice: { code: "psp_unavailable" } }],
    });
    expect(paidAtPsp("S1")).toBe(0n);
    await expectConsistent("S1");
  });

  it("never pays twice when the PSP paid but its answer was lost", async () => {
    await open();
    await fulfilledSale();
    faults.next("lost");
    const [payout] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    expect(payout).toMatchObject({ status: "pending", pspOutcomeUnknown: true });
    expect(paidAtPsp("S1")).toBe(8_500n);
    await drain();
    expect((await world.sdk.getPayout(payout!.id)).payout).toMatchObject({ status: "paid", amount: 8_500n });
    expect(world.sandbox.payouts()).toHaveLength(1);
    await expectConsistent("S1");
  });

  it("pays exactly once whichever transaction of a payout the process dies around", async () => {
    const crashPoints: string[] = [];
    for (const when of ["before", "after"] as const) {
      for (let at = 1; ; at++) {
        await open();
        await fulfilledSale();
        const dying = createPaymentSystem({
          ...world.sdk.deps.options,
          store: crashing(world.store, at, when),
        });
        let crashed = false;
        try {
          await dying.requestPayout({ sellerId: "S1" });
        } catch (error) {
          if (!(error instanceof Crash)) throw error;
          crashed = true;
        }
        // Restart: a fresh process's worker, once the dead one's job leases have expired.
        world.clock.advance(6 * 60_000);
        await drain();
        // A request the dead process never got to make is the operator's to repeat.
        await world.sdk.requestPayout({ sellerId: "S1" });
        await drain();
        const label = `${when} transaction ${at}`;
        expect(paidAtPsp("S1"), label).toBe(8_500n);
        expect(world.sandbox.payouts(), label).toHaveLength(1);
        expect(await world.sdk.sellerWallet("S1"), label).toMatchObject({
          balances: [{ available: 0n, reserved: 0n, paidOut: 8_500n }],
        });
        await expectConsistent("S1");
        await world.close();
        if (!crashed) break;
        crashPoints.push(label);
      }
    }
    // Reads, the reservation, the recovery mark before the PSP call, the answer's record — each
    // crashed before and after.
    expect(crashPoints.length).toBeGreaterThanOrEqual(10);
  });

  it("pays nothing while a clawback leaves the balance negative, says so once, and nets it later", async () => {
    await open();
    const { paymentId, s1 } = await fulfilledSale();
    // A refund after fulfilment takes the money back from available; paid first, so it goes negative.
    const [paid] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    expect(paid).toMatchObject({ status: "paid", amount: 8_500n });
    await world.sdk.refundPayment(
      paymentId,
      { paymentOrderId: s1, amount: 4_000n },
      { idempotencyKey: "r1" },
    );
    await world.deliver();
    await drain();
    const negative = (await world.sdk.sellerWallet("S1")).balances[0]!.available;
    expect(negative).toBeLessThan(0n);
    expect(await world.sdk.requestPayout({ sellerId: "S1" })).toMatchObject({
      payouts: [],
      skipped: [{ currency: "USD", reason: "negative_balance", available: negative }],
    });
    expect(await world.sdk.getPayoutSchedule("S1")).toMatchObject({ lastSkipReason: "negative_balance" });
    // The next sale nets the clawback: the payout is the sale less what is owed.
    await fulfilledSale(20_000n);
    const [netted] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    const { lines } = await world.sdk.getPayout(netted!.id);
    expect(lines.map((l) => l.kind)).toEqual(["refund", "fulfilled"]);
    expect(netted!.amount).toBe(lines.reduce((sum, l) => sum + l.amount, 0n));
    expect(netted!.amount).toBe(negative + 17_500n);
    expect((await world.sdk.getPayoutSchedule("S1")).lastSkipReason).toBeUndefined();
    await expectConsistent("S1");
  });

  it("pays sellers on their schedule, keeping amounts under the minimum for later", async () => {
    await open({ payoutMinimums: { USD: 10_000n } });
    await fulfilledSale();
    await world.sdk.configureSellerPayouts("S1", { interval: "daily" });
    const schedule = await world.sdk.getPayoutSchedule("S1");
    expect(schedule.nextPayoutAt?.toISOString()).toBe("2026-03-02T00:00:00.000Z");
    world.clock.set(new Date("2026-03-02T00:00:01.000Z"));
    await drain();
    // 85.00 is under the 100.00 minimum: nothing paid, reported, kept available.
    expect(await world.sdk.listSellerPayouts("S1")).toMatchObject({ data: [] });
    expect(await world.sdk.getPayoutSchedule("S1")).toMatchObject({
      lastSkipReason: "below_minimum",
      nextPayoutAt: new Date("2026-03-03T00:00:00.000Z"),
    });
    await fulfilledSale();
    world.clock.set(new Date("2026-03-03T00:00:01.000Z"));
    await drain();
    const { data } = await world.sdk.listSellerPayouts("S1");
    expect(data).toMatchObject([{ status: "paid", trigger: "scheduled", amount: 17_000n }]);
    await expectConsistent("S1");
  });
});
