import type { CurrencyCode, PaymentSystemOptions } from "@settlekit/core";
import {
  commissionAndLogistics,
  createPaymentSystem,
  ErrorCodes,
  runWorkerPass,
  staticFxRates,
} from "@settlekit/core";
import { sandboxProvider } from "@settlekit/psp-sandbox";
import { afterEach, describe, expect, it } from "vitest";
import { Crash, dyingAt } from "./support/crashing-store.js";
import { reversalFaults } from "./support/reversal-faults.js";
import type { World } from "./support/world.js";
import { balancesOf, cart, DIALECTS, makeWorld, referenceOf } from "./support/world.js";

/** 10 % commission and a 5.00 USD logistics fee per fulfilled order (kept on refunds). */
const fees = commissionAndLogistics({ commissionBasisPoints: 1_000, logistics: { USD: 500n } });
const rates = staticFxRates({ "USD/JPY": "157.23" });

/** Every currency's ledger sums to 0; each seller's wallet is the projection of its accounts. */
async function expectBooksBalance(world: World, sellers: readonly string[]): Promise<void> {
  const balances = await balancesOf(world);
  const byCurrency = new Map<string, bigint>();
  for (const [key, balance] of Object.entries(balances)) {
    const currency = key.split(" ")[1]!;
    byCurrency.set(currency, (byCurrency.get(currency) ?? 0n) + balance);
  }
  for (const [currency, sum] of byCurrency) expect(sum, `ledger ${currency}`).toBe(0n);
  for (const seller of sellers) {
    const wallet = await world.sdk.sellerWallet(seller);
    for (const b of wallet.balances) {
      const at = (bucket: string) => -(balances[`seller:${seller}:${bucket} ${b.currency}`] ?? 0n);
      expect(b.available, `${seller} available ${b.currency}`).toBe(at("available"));
      expect(b.pending, `${seller} pending ${b.currency}`).toBe(at("pending"));
      expect(b.reserved, `${seller} reserved ${b.currency}`).toBe(at("reserved"));
      // What the seller kept at the PSP: its payouts less what the PSP took back.
      const sent = world.sandbox
        .payouts()
        .filter((p) => p.sellerId === seller && p.currency === b.currency && p.status !== "failed");
      const kept = sent.reduce((sum, p) => sum + p.amount - p.amountReversed, 0n);
      expect(b.paidOut, `${seller} paid out ${b.currency}`).toBe(kept);
    }
  }
}

describe.each(DIALECTS)("clawbacks by payout reversal on %s", (dialect) => {
  let world: World;
  let faults: ReturnType<typeof reversalFaults>;
  afterEach(async () => world?.close());

  async function open(overrides: Partial<PaymentSystemOptions> = {}) {
    world = await makeWorld(
      dialect,
      {
        fees,
        clawbacks: "reverse_payouts",
        backoff: { baseMs: 1_000, maxMs: 1_000, jitter: 0 },
        ...overrides,
      },
      {
        wrapProvider: (provider) => {
          faults = reversalFaults(provider);
          return faults.provider;
        },
      },
    );
  }

  /** S1 sells `amount` (fulfilled: 90 % less 5.00 USD available); returns the payment and S1's order. */
  async function sale(amount = 10_000n, currency: CurrencyCode = "USD") {
    const created = await world.sdk.createPayment(cart({ currency, orders: [{ sellerId: "S1", amount }] }), {
      idempotencyKey: `click-${Math.random()}`,
    });
    await world.sandbox.pay(referenceOf({ redirect_url: created.payment.redirectUrl }), {});
    await world.deliver();
    const order = (await world.sdk.getPayment(created.payment.id)).orders[0]!.id;
    await world.sdk.fulfilOrder({ paymentOrderId: order });
    return { paymentId: created.payment.id, order };
  }

  async function refund(paymentId: string, order: string, amount?: bigint) {
    const made = await world.sdk.refundPayment(
      paymentId,
      { paymentOrderId: order, ...(amount === undefined ? {} : { amount }) },
      { idempotencyKey: `refund-${Math.random()}` },
    );
    await world.deliver();
    return made;
  }

  /** Runs the worker until nothing is due, moving the clock past each backoff. */
  async function drain(rounds = 30) {
    for (let i = 0; i < rounds; i++) {
      const pass = await world.work();
      await world.deliver();
      world.clock.advance(2_000);
      if (pass.jobs.claimed === 0 && pass.relay.published === 0) break;
    }
  }

  const available = async (currency = "USD") =>
    (await world.sdk.sellerWallet("S1")).balances.find((b) => b.currency === currency)!.available;
  const reversedAtPsp = () => world.sandbox.payoutReversals().reduce((sum, r) => sum + r.amount, 0n);
  const published = (type: string) => world.published.filter((e) => e.type === type);

  it("a full refund after payout takes the seller's share back from the payout: available is settled, not negative", async () => {
    await open();
    const { paymentId, order } = await sale();
    const [payout] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    expect(payout).toMatchObject({ status: "paid", amount: 8_500n });
    await refund(paymentId, order);
    // The refund debits available at once (9 000: the logistics fee is kept), then the job reverses.
    expect(await available()).toBe(-9_000n);
    await drain();
    expect(faults.calls).toMatchObject([
      {
        payoutId: payout!.id,
        amount: 8_500n,
        currency: "USD",
        reversalId: expect.stringMatching(/^clawback:rf_/),
      },
    ]);
    expect(reversedAtPsp()).toBe(8_500n);
    const { payout: reversed } = await world.sdk.getPayout(payout!.id);
    expect(reversed).toMatchObject({ status: "reversed", amountReversed: 8_500n });
    // What the seller owes beyond the payout (the kept logistics fee) is netted by the next payout.
    expect(await available()).toBe(-500n);
    expect(await world.sdk.sellerWallet("S1")).toMatchObject({ balances: [{ paidOut: 0n, reserved: 0n }] });
    expect(published("payout.reversed")).toHaveLength(1);
    expect(published("payout.clawback_failed")).toEqual([]);
    const history = (await world.sdk.listSellerTransactions("S1")).data;
    expect(history.at(-1)).toMatchObject({ type: "reversal", payoutId: payout!.id, available: 8_500n });
    await expectBooksBalance(world, ["S1"]);
  });

  it("a partial refund after payout reverses just the seller's share of it, once", async () => {
    await open();
    const { paymentId, order } = await sale();
    const [payout] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    await refund(paymentId, order, 4_000n);
    await drain();
    // 4 000 refunded, 400 of it the platform's commission: 3 600 from the seller.
    expect(faults.calls.map((c) => c.amount)).toEqual([3_600n]);
    expect((await world.sdk.getPayout(payout!.id)).payout).toMatchObject({
      status: "reversed",
      amountReversed: 3_600n,
      failureCode: "refund_clawback",
    });
    expect(await available()).toBe(0n);
    // Then the rest: 6 000 less 600 commission, capped at the 4 900 left of the payout.
    await refund(paymentId, order);
    await drain();
    expect(faults.calls.map((c) => c.amount)).toEqual([3_600n, 4_900n]);
    expect(reversedAtPsp()).toBe(8_500n);
    expect(await available()).toBe(-500n);
    await expectBooksBalance(world, ["S1"]);
  });

  it("splits the clawback over the two payouts that paid the order", async () => {
    await open();
    const { paymentId, order } = await sale();
    // Refunded before any payout (from available: 3 600), then the refund bounces back: the first
    // payout pays 4 900, the second the 3 600 the bounce brought back.
    await refund(paymentId, order, 4_000n);
    const [first] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    expect(first).toMatchObject({ status: "paid", amount: 4_900n });
    world.sandbox.faults.failRefundAfterSuccess(world.sandbox.refunds()[0]!.refundReference);
    await world.deliver();
    await drain();
    const [second] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    expect(second).toMatchObject({ status: "paid", amount: 3_600n });
    expect(faults.calls).toEqual([]);
    await refund(paymentId, order);
    await drain();
    expect(
      faults.calls.map((c) => [c.payoutId, c.amount]).sort(([a], [b]) => (String(a) < String(b) ? -1 : 1)),
    ).toEqual(
      [
        [first!.id, 4_900n],
        [second!.id, 3_600n],
      ].sort(([a], [b]) => (String(a) < String(b) ? -1 : 1)),
    );
    expect(reversedAtPsp()).toBe(8_500n);
    expect(await available()).toBe(-500n);
    await expectBooksBalance(world, ["S1"]);
  });

  it("an answer lost after the PSP reversed is found by its id: reversed exactly once", async () => {
    await open();
    const { paymentId, order } = await sale();
    const [payout] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    faults.next("lost");
    await refund(paymentId, order, 4_000n);
    await drain();
    expect(faults.calls).toHaveLength(1);
    expect(world.sandbox.payoutReversals()).toHaveLength(1);
    expect((await world.sdk.getPayout(payout!.id)).payout).toMatchObject({ amountReversed: 3_600n });
    expect(await available()).toBe(0n);
    await expectBooksBalance(world, ["S1"]);
  });

  it("reverses exactly once whichever transaction of the clawback the worker dies around", async () => {
    const crashPoints: string[] = [];
    for (const when of ["before", "after"] as const) {
      for (let at = 1; ; at++) {
        await open();
        const { paymentId, order } = await sale();
        const [payout] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
        await refund(paymentId, order, 4_000n);
        const dying = createPaymentSystem({
          ...world.sdk.deps.options,
          store: dyingAt(world.store, at, when),
        });
        let crashed = false;
        try {
          await runWorkerPass(dying, "worker-dying");
        } catch (error) {
          if (!(error instanceof Crash)) throw error;
          crashed = true;
        }
        // Restart: another worker, once the dead one's job leases have expired.
        world.clock.advance(6 * 60_000);
        await drain();
        const label = `${when} transaction ${at}`;
        expect(world.sandbox.payoutReversals(), label).toHaveLength(1);
        expect(faults.calls.length, label).toBe(1);
        expect((await world.sdk.getPayout(payout!.id)).payout.amountReversed, label).toBe(3_600n);
        expect(await available(), label).toBe(0n);
        await expectBooksBalance(world, ["S1"]);
        await world.close();
        if (!crashed) break;
        crashPoints.push(label);
      }
    }
    // Every transaction of a worker pass (relay, claims, the reversal's booking…), before and after.
    expect(crashPoints.length).toBeGreaterThanOrEqual(10);
  }, 240_000);

  it("a PSP that is down is retried with backoff; retries exhausted fall back to netting, and say why", async () => {
    await open({ payoutMaxAttempts: 3 });
    const { paymentId, order } = await sale();
    const [payout] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    faults.next("retryable", "retryable", "retryable");
    await refund(paymentId, order, 4_000n);
    await drain();
    expect(faults.calls).toHaveLength(3);
    expect(await world.sdk.listDeadLetters({ type: "payout.clawback" })).toHaveLength(1);
    expect(reversedAtPsp()).toBe(0n);
    expect((await world.sdk.getPayout(payout!.id)).payout).toMatchObject({
      status: "paid",
      amountReversed: 0n,
    });
    expect(published("payout.clawback_failed")).toMatchObject([
      {
        aggregateId: payout!.id,
        payload: {
          clawback_failure_reason: "psp_unavailable",
          fallback: "net_next_payout",
          clawback_amount: "3600",
        },
      },
    ]);
    // Netting: the debit stays on available, and the next sale's payout pays less by it.
    expect(await available()).toBe(-3_600n);
    await sale();
    const [next] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    expect(next).toMatchObject({ status: "paid", amount: 8_500n - 3_600n });
    await expectBooksBalance(world, ["S1"]);
  });

  it("a dead letter whose last answer was lost says so; its replay finds the reversal instead of making another", async () => {
    await open({ payoutMaxAttempts: 3 });
    const { paymentId, order } = await sale();
    const [payout] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    // The third call reverses, but its answer is lost: the job is out of attempts.
    faults.next("timeout", "timeout", "lost");
    await refund(paymentId, order, 4_000n);
    await drain();
    expect(faults.calls).toHaveLength(3);
    const [dead] = await world.sdk.listDeadLetters({ type: "payout.clawback" });
    expect(published("payout.clawback_failed")).toMatchObject([
      { payload: { clawback_failure_reason: "psp_outcome_unknown" } },
    ]);
    // The PSP's own report of the reversal books it meanwhile.
    expect(world.sandbox.payoutReversals()).toHaveLength(1);
    expect((await world.sdk.getPayout(payout!.id)).payout.amountReversed).toBe(3_600n);
    expect(await available()).toBe(0n);
    // An operator replays the dead letter: it asks first, finds the reversal, reverses nothing more.
    await world.sdk.replayDeadLetter(dead!.id);
    await drain();
    expect(faults.calls).toHaveLength(3);
    expect(world.sandbox.payoutReversals()).toHaveLength(1);
    expect((await world.sdk.getPayout(payout!.id)).payout).toMatchObject({
      amountReversed: 3_600n,
      failureCode: "refund_clawback",
    });
    expect(await available()).toBe(0n);
    await expectBooksBalance(world, ["S1"]);
  });

  it("a reversal the PSP refuses falls back to netting at once, with the PSP's reason", async () => {
    await open();
    const { paymentId, order } = await sale();
    const [payout] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    faults.next("refused");
    await refund(paymentId, order, 4_000n);
    await drain();
    expect(faults.calls).toHaveLength(1);
    expect(reversedAtPsp()).toBe(0n);
    expect(await world.sdk.listDeadLetters({ type: "payout.clawback" })).toEqual([]);
    expect(published("payout.clawback_failed")).toMatchObject([
      { aggregateId: payout!.id, payload: { clawback_failure_reason: "psp_rejected:insufficient_funds" } },
    ]);
    expect(await available()).toBe(-3_600n);
    await expectBooksBalance(world, ["S1"]);
  });

  it("with net_next_payout (the default) a refund after payout reverses nothing", async () => {
    await open({ clawbacks: "net_next_payout" });
    const { paymentId, order } = await sale();
    await world.sdk.requestPayout({ sellerId: "S1" });
    await refund(paymentId, order, 4_000n);
    await drain();
    expect(faults.calls).toEqual([]);
    expect(await available()).toBe(-3_600n);
    await expectBooksBalance(world, ["S1"]);
  });

  it("a refund before any payout reverses nothing: the payout pays the net", async () => {
    await open();
    const { paymentId, order } = await sale();
    await refund(paymentId, order, 4_000n);
    await drain();
    const [payout] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    expect(payout).toMatchObject({ amount: 4_900n });
    expect(faults.calls).toEqual([]);
    await expectBooksBalance(world, ["S1"]);
  });

  it("an FX payout is taken back at its locked rate: no phantom balance in either currency", async () => {
    await open({ fxRates: rates, fxSpreadBps: 100 });
    await world.sdk.configureSellerPayouts("S1", { interval: "manual", payoutCurrency: "JPY" });
    const { paymentId, order } = await sale();
    const before = await balancesOf(world);
    const [payout] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    expect(payout).toMatchObject({ sourceAmount: 8_500n, amount: 13_230n, currency: "JPY" });
    // 3 600 of the 8 500 cents: the most yen whose share at the locked rate is not more than
    // 3 600 cents: 5 604 (floor(8 500 × 5 604 / 13 230) = 3 600; 5 605 would give 3 601).
    await refund(paymentId, order, 4_000n);
    await drain();
    expect(faults.calls.map((c) => [c.amount, c.currency])).toEqual([[5_604n, "JPY"]]);
    expect(await available()).toBe(0n);
    // The rest of the order: all of the payout comes back, and exactly what it took.
    await refund(paymentId, order);
    await drain();
    expect(reversedAtPsp()).toBe(13_230n);
    const after = await balancesOf(world);
    for (const account of [
      "platform:fx USD",
      "platform:fx JPY",
      "platform:fx_revenue JPY",
      "psp:sandbox:payouts JPY",
    ])
      expect(after[account] ?? 0n, account).toBe(before[account] ?? 0n);
    expect(await available()).toBe(-500n);
    await expectBooksBalance(world, ["S1"]);
  });
});

describe("clawbacks configuration", () => {
  it("refuses reverse_payouts with a payout provider that cannot reverse payouts", async () => {
    const sandbox = sandboxProvider({
      baseUrl: "http://shop.test/sandbox",
      webhookUrl: "http://shop.test/webhooks/sandbox",
      webhookSecret: "whsec_x",
    });
    const noReversals = new Proxy(sandbox, {
      get(target, key, receiver) {
        if (key === "capabilities") return { ...target.capabilities, payoutReversals: false };
        return Reflect.get(target, key, receiver);
      },
    });
    const { memoryStore } = await import("@settlekit/core/testing");
    expect(() =>
      createPaymentSystem({ store: memoryStore(), providers: [noReversals], clawbacks: "reverse_payouts" }),
    ).toThrow(expect.objectContaining({ code: ErrorCodes.PROVIDER_CAPABILITY_MISSING, param: "clawbacks" }));
    expect(() =>
      createPaymentSystem({
        store: memoryStore(),
        providers: [sandbox],
        clawbacks: "sometimes" as unknown as "reverse_payouts",
      }),
    ).toThrow(expect.objectContaining({ code: ErrorCodes.VALIDATION_FAILED, param: "clawbacks" }));
    expect(() =>
      createPaymentSystem({ store: memoryStore(), providers: [sandbox], clawbacks: "reverse_payouts" }),
    ).not.toThrow();
    await sandbox.close();
  });
});
