import type { ClawbackPolicy, PaymentSystem } from "@settlekit/core";
import {
  commissionAndLogistics,
  createPaymentSystem,
  manualClock,
  runWorkerPass,
  staticFxRates,
} from "@settlekit/core";
import { memoryStore } from "@settlekit/core/testing";
import type { SandboxProvider } from "@settlekit/psp-sandbox";
import { sandboxProvider } from "@settlekit/psp-sandbox";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PayoutFault, PayoutFaultControl } from "./support/payout-faults.js";
import { payoutFaults } from "./support/payout-faults.js";
import type { ReversalFault } from "./support/reversal-faults.js";
import { reversalFaults } from "./support/reversal-faults.js";
import { cart, referenceOf } from "./support/world.js";

const SELLERS = ["S1", "S2", "S3"] as const;
/** S3 is paid in JPY whatever it earns (FX at payout). */
const FX_SELLER = "S3";

type Op =
  | { readonly op: "sale"; readonly amounts: readonly number[]; readonly pay: boolean }
  | { readonly op: "fulfil"; readonly pick: number }
  | { readonly op: "refund"; readonly pick: number; readonly part: number }
  | { readonly op: "payout"; readonly seller: number; readonly fault: PayoutFault }
  | { readonly op: "bank_return"; readonly pick: number }
  | { readonly op: "reversal_fault"; readonly fault: ReversalFault }
  | { readonly op: "work"; readonly ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant("fulfil" as const), pick: fc.nat() }), weight: 2 },
  fc.record({
    op: fc.constant("sale" as const),
    amounts: fc.array(fc.integer({ min: 0, max: 30_000 }), { minLength: 3, maxLength: 3 }),
    pay: fc.boolean(),
  }),
  fc.record({ op: fc.constant("fulfil" as const), pick: fc.nat() }),
  fc.record({ op: fc.constant("refund" as const), pick: fc.nat(), part: fc.integer({ min: 1, max: 100 }) }),
  fc.record({
    op: fc.constant("payout" as const),
    seller: fc.integer({ min: 0, max: 2 }),
    fault: fc.constantFrom<PayoutFault>(
      "ok",
      "ok",
      "retryable",
      "lost",
      "timeout",
      "account_closed",
      "crash",
    ),
  }),
  fc.record({
    op: fc.constant("payout" as const),
    seller: fc.integer({ min: 0, max: 2 }),
    fault: fc.constantFrom<PayoutFault>("ok", "account_closed", "retryable"),
  }),
  fc.record({ op: fc.constant("bank_return" as const), pick: fc.nat() }),
  fc.record({
    op: fc.constant("reversal_fault" as const),
    fault: fc.constantFrom<ReversalFault>("retryable", "lost", "refused"),
  }),
  fc.record({ op: fc.constant("work" as const), ms: fc.integer({ min: 0, max: 10 * 60_000 }) }),
);

interface Model {
  readonly sdk: PaymentSystem;
  readonly sandbox: SandboxProvider;
  readonly faults: PayoutFaultControl;
  readonly reversals: ReturnType<typeof reversalFaults>;
  readonly clock: ReturnType<typeof manualClock>;
  readonly payments: string[];
}

function model(clawbacks: ClawbackPolicy): Model {
  const clock = manualClock(new Date("2026-03-01T12:00:00.000Z"));
  let sdk: PaymentSystem | undefined;
  const sandbox = sandboxProvider({
    baseUrl: "http://shop.test/sandbox",
    webhookUrl: "http://shop.test/webhooks/sandbox",
    webhookSecret: "whsec_property",
    clock,
    fetch: (async (_url: string | URL | Request, init?: RequestInit) => {
      const headers = Object.fromEntries(new Headers(init?.headers).entries());
      await sdk!.handleWebhook("sandbox", { rawBody: String(init?.body ?? ""), headers });
      return new Response("{}", { status: 200 });
    }) as typeof fetch,
  });
  const reversals = reversalFaults(sandbox);
  const wrapped = payoutFaults(reversals.provider);
  sdk = createPaymentSystem({
    store: memoryStore(),
    providers: [wrapped.provider],
    clawbacks,
    clock,
    fees: commissionAndLogistics({ commissionBasisPoints: 1_250, logistics: { USD: 300n } }),
    fxRates: staticFxRates({ "USD/JPY": "157.23" }),
    fxSpreadBps: 75,
    payoutMaxAttempts: 3,
    backoff: { baseMs: 1_000, maxMs: 60_000, jitter: 0 },
    logger: { warn: () => undefined, error: () => undefined },
  });
  return { sdk, sandbox, faults: wrapped.control, reversals, clock, payments: [] };
}

async function apply(m: Model, step: Op): Promise<void> {
  const { sdk, sandbox } = m;
  const settle = async () => {
    await sandbox.idle();
  };
  switch (step.op) {
    case "sale": {
      const orders = step.amounts
        .map((amount, i) => ({ sellerId: SELLERS[i]!, amount: BigInt(amount) }))
        .filter((o) => o.amount > 0n);
      if (orders.length === 0) return;
      const { payment } = await sdk.createPayment(cart({ orders }), {
        idempotencyKey: `sale-${m.payments.length}`,
      });
      m.payments.push(payment.id);
      if (step.pay) {
        await sandbox.pay(referenceOf({ redirect_url: payment.redirectUrl }), {});
        await settle();
      }
      return;
    }
    case "fulfil": {
      const orders = (await ordersIn(m, "succeeded")).filter((o) => o.refundedAmount < o.amount);
      if (orders.length === 0) return;
      await sdk
        .fulfilOrder({ paymentOrderId: orders[step.pick % orders.length]!.id })
        .catch((error: { code?: string }) => {
          // A refund still pending at the PSP: fulfilment waits for it (documented).
          if (error.code !== "INVALID_STATE_TRANSITION") throw error;
        });
      return;
    }
    case "refund": {
      const orders = [...(await ordersIn(m, "succeeded")), ...(await ordersIn(m, "fulfilled"))].filter(
        (o) => o.amount > o.refundedAmount,
      );
      if (orders.length === 0) return;
      const order = orders[step.pick % orders.length]!;
      const left = order.amount - order.refundedAmount;
      const amount = (left * BigInt(step.part)) / 100n || 1n;
      await sdk
        .refundPayment(
          order.paymentId,
          { paymentOrderId: order.id, amount },
          { idempotencyKey: `r-${Math.random()}` },
        )
        .catch((error: { code?: string }) => {
          // A refund racing a fulfilment of its order waits for it; the next op may retry.
          if (error.code !== "INVALID_STATE_TRANSITION") throw error;
        });
      await settle();
      return;
    }
    case "payout": {
      m.faults.next(step.fault);
      await sdk.requestPayout({ sellerId: SELLERS[step.seller]! }).catch((error: { code?: string }) => {
        // A crash of this "process" after the PSP paid: the worker finds out later.
        if (!(error instanceof Error) || (error as { code?: string }).code !== undefined) throw error;
      });
      m.faults.clear(); // an unused fault does not leak into the worker's calls
      return;
    }
    case "bank_return": {
      const paid = sandbox.payouts().filter((p) => p.status === "paid");
      if (paid.length === 0) return;
      sandbox.faults.failPayoutAfterPaid(paid[step.pick % paid.length]!.payoutReference, {
        failureReason: "account_closed",
      });
      await settle();
      return;
    }
    case "reversal_fault": {
      // The next clawback's reversal call (if any comes) fails so.
      m.reversals.next(step.fault);
      return;
    }
    case "work": {
      m.clock.advance(step.ms);
      await runWorkerPass(sdk, "w1");
      await settle();
      return;
    }
  }
}

async function ordersIn(m: Model, status: string) {
  const all = [];
  for (const id of m.payments) {
    for (const order of (await m.sdk.getPayment(id)).orders) if (order.status === status) all.push(order);
  }
  return all;
}

/** Every invariant of the payout flow, over the whole ledger and every payout. */
async function check(m: Model): Promise<void> {
  const { sdk } = m;
  const store = sdk.deps.store;
  const balances = await store.ledger.listBalances();
  const perCurrency = new Map<string, bigint>();
  for (const b of balances) perCurrency.set(b.currency, (perCurrency.get(b.currency) ?? 0n) + b.balance);
  for (const [currency, sum] of perCurrency) expect(sum, `ledger ${currency}`).toBe(0n);
  for (const sellerId of SELLERS) {
    const wallet = await sdk.sellerWallet(sellerId);
    const balance = (account: string, currency: string) =>
      -(balances.find((b) => b.account === account && b.currency === currency)?.balance ?? 0n);
    const payouts = (await sdk.listSellerPayouts(sellerId, { limit: 100 })).data;
    for (const w of wallet.balances) {
      // The wallet is the ledger's projection.
      expect(w.available).toBe(balance(`seller:${sellerId}:available`, w.currency));
      expect(w.pending).toBe(balance(`seller:${sellerId}:pending`, w.currency));
      expect(w.reserved).toBe(balance(`seller:${sellerId}:reserved`, w.currency));
      expect(w.reserved, `${sellerId} reserved`).toBeGreaterThanOrEqual(0n);
      // In flight is exactly what pending payouts hold.
      const inFlight = payouts
        .filter((p) => p.status === "pending" && p.currency === w.currency)
        .reduce((s, p) => s + p.amount, 0n);
      expect(w.reserved, `${sellerId} ${w.currency} in flight`).toBe(inFlight);
    }
    // What the PSP holds as sent (less what it took back) equals what settlekit says it paid out.
    const atPsp = new Map<string, bigint>();
    for (const p of m.sandbox.payouts().filter((p) => p.sellerId === sellerId && p.status !== "failed"))
      atPsp.set(p.currency, (atPsp.get(p.currency) ?? 0n) + p.amount - p.amountReversed);
    for (const w of wallet.balances)
      expect(w.paidOut, `${sellerId} paid out ${w.currency}`).toBe(atPsp.get(w.currency) ?? 0n);
    // Σ paid out ≤ Σ net earned (what fulfilment made available), per source currency.
    const earned = new Map<string, bigint>();
    const lines = await Promise.all(payouts.map((p) => sdk.getPayout(p.id)));
    for (const { payout, lines: ls } of lines) {
      // Every payout has its journals, and its lines explain its amount.
      expect(
        ls.reduce((s, l) => s + l.amount, 0n),
        payout.id,
      ).toBe(payout.sourceAmount);
      const journal = (suffix: string) => store.ledger.getJournal(`payout:${payout.id}:${suffix}`);
      expect(await journal("reserved"), `${payout.id} reserved`).not.toBeNull();
      if (payout.status === "paid" || payout.status === "reversed")
        expect(await journal("paid"), `${payout.id} paid`).not.toBeNull();
      if (payout.status === "failed")
        expect(await journal("released"), `${payout.id} released`).not.toBeNull();
      if (sellerId === FX_SELLER && payout.currency !== payout.sourceCurrency)
        expect(payout.fx).toBeDefined();
    }
    const journals = await store.ledger.listJournals({
      account: `seller:${sellerId}:available`,
      limit: 1000,
    });
    for (const j of journals.filter((j) => j.kind === "fulfilled")) {
      for (const p of j.postings.filter((p) => p.account === `seller:${sellerId}:available`))
        earned.set(p.currency, (earned.get(p.currency) ?? 0n) + p.amount);
    }
    const sent = new Map<string, bigint>();
    for (const { payout } of lines.filter(({ payout }) => payout.status === "paid")) {
      sent.set(payout.sourceCurrency, (sent.get(payout.sourceCurrency) ?? 0n) + payout.sourceAmount);
    }
    for (const [currency, amount] of sent) {
      expect(amount, `${sellerId} paid ≤ earned in ${currency}`).toBeLessThanOrEqual(
        earned.get(currency) ?? 0n,
      );
    }
  }
}

type Seen = Record<string, number>;

async function tally(m: Model, seen: Seen): Promise<void> {
  for (const sellerId of SELLERS) {
    for (const p of (await m.sdk.listSellerPayouts(sellerId, { limit: 100 })).data) {
      if (p.status === "paid" || p.status === "failed" || p.status === "reversed") seen[p.status]!++;
      // Paid although a call's answer was lost or the process died after the PSP paid.
      if (p.status !== "failed" && p.attempts > 1) seen.recoveredLostAnswer!++;
      if (p.fx) seen.fx!++;
      if (p.failureCode === "refund_clawback" && seen.clawedBackByReversal !== undefined)
        seen.clawedBackByReversal++;
    }
    for (const t of (await m.sdk.listSellerTransactions(sellerId, { limit: 100 })).data)
      if (t.type === "clawback") seen.clawback!++;
    const account = await m.sdk.getPayoutSchedule(sellerId);
    if (account.lastSkipReason === "negative_balance") seen.negativeSkip!++;
  }
}

describe.each<ClawbackPolicy>(["net_next_payout", "reverse_payouts"])(
  "payout property (clawbacks: %s): random sales, refunds, fulfilments and payouts keep every cent explained",
  (clawbacks) => {
    it("holds for every sequence", async () => {
      /** What the runs went through, so a generator that stopped reaching a path fails the test. */
      const seen: Seen = {
        paid: 0,
        failed: 0,
        reversed: 0,
        fx: 0,
        clawback: 0,
        negativeSkip: 0,
        recoveredLostAnswer: 0,
        ...(clawbacks === "reverse_payouts" ? { clawedBackByReversal: 0 } : {}),
      };
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 40 }), async (ops) => {
          const m = model(clawbacks);
          await m.sdk.configureSellerPayouts(FX_SELLER, { interval: "manual", payoutCurrency: "JPY" });
          try {
            for (const step of ops) await apply(m, step);
            // Then the dust settles: every retry due, every job run.
            for (let i = 0; i < 12; i++) await apply(m, { op: "work", ms: 120_000 });
            await check(m);
            await tally(m, seen);
          } finally {
            await m.sandbox.close();
          }
        }),
        { numRuns: process.env.CI ? 500 : 100 },
      );
      for (const [path, count] of Object.entries(seen))
        expect(count, `runs that reached ${path}: ${JSON.stringify(seen)}`).toBeGreaterThan(0);
    }, 600_000);
  },
);
