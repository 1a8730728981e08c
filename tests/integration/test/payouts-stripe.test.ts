import type { PaymentSystemOptions } from "@settlekit/core";
import { commissionAndLogistics } from "@settlekit/core";
import type Stripe from "stripe";
import { afterEach, describe, expect, it } from "vitest";
import type { StripeWorld } from "./support/stripe-world.js";
import { makeStripeWorld, STRIPE_ACCOUNTS } from "./support/stripe-world.js";
import { balancesOf, cart, DIALECTS, referenceOf } from "./support/world.js";

/** 10 % commission and a 5.00 USD logistics fee per fulfilled order (kept on refunds). */
const fees = commissionAndLogistics({ commissionBasisPoints: 1_000, logistics: { USD: 500n } });

describe.each(DIALECTS)("payouts through Stripe Connect (fake server) on %s", (dialect) => {
  let world: StripeWorld;
  afterEach(async () => world?.close());

  async function open(overrides: Partial<PaymentSystemOptions> = {}) {
    world = await makeStripeWorld(dialect, {
      fees,
      backoff: { baseMs: 1_000, maxMs: 1_000, jitter: 0 },
      ...overrides,
    });
  }

  /** S1 sells 100.00 USD through Checkout, fulfilled: 85.00 available. */
  async function sale(): Promise<{ paymentId: string; order: string }> {
    const created = await world.sdk.createPayment(cart({ orders: [{ sellerId: "S1", amount: 10_000n }] }), {
      idempotencyKey: `click-${Math.random()}`,
    });
    world.fake.pay(referenceOf({ redirect_url: created.payment.redirectUrl }), "succeeded");
    await world.deliver();
    const order = (await world.sdk.getPayment(created.payment.id)).orders[0]!.id;
    await world.sdk.fulfilOrder({ paymentOrderId: order });
    return { paymentId: created.payment.id, order };
  }

  async function drain(rounds = 30) {
    for (let i = 0; i < rounds; i++) {
      const pass = await world.work();
      await world.deliver();
      world.clock.advance(2_000);
      if (pass.jobs.claimed === 0 && pass.relay.published === 0) break;
    }
  }

  const transfers = () =>
    world.fake.state.all<Stripe.Transfer>("transfer", (t) => t.destination === STRIPE_ACCOUNTS.S1);
  const reversals = () => world.fake.state.all<Stripe.TransferReversal>("transfer_reversal", () => true);
  const posts = (path: RegExp) => world.fake.requests.filter((r) => r.method === "POST" && path.test(r.path));
  const available = async () => (await world.sdk.sellerWallet("S1")).balances[0]!.available;

  /** Ledger sums to 0 per currency; the wallet is its projection; what Stripe kept sent = paid out. */
  async function expectBooksBalance() {
    const balances = await balancesOf(world);
    const byCurrency = new Map<string, bigint>();
    for (const [key, balance] of Object.entries(balances)) {
      const currency = key.split(" ")[1]!;
      byCurrency.set(currency, (byCurrency.get(currency) ?? 0n) + balance);
    }
    for (const [currency, sum] of byCurrency) expect(sum, currency).toBe(0n);
    const [usd] = (await world.sdk.sellerWallet("S1")).balances;
    expect(usd!.available).toBe(-(balances["seller:S1:available USD"] ?? 0n));
    expect(usd!.reserved).toBe(-(balances["seller:S1:reserved USD"] ?? 0n));
    expect(usd!.pending).toBe(-(balances["seller:S1:pending USD"] ?? 0n));
    const kept = transfers().reduce((sum, t) => sum + BigInt(t.amount - t.amount_reversed), 0n);
    expect(usd!.paidOut).toBe(kept);
    expect(balances["psp:stripe:payouts USD"] ?? 0n).toBe(-kept);
  }

  it("pays a seller by a Connect transfer to their account, keyed by the payout", async () => {
    await open();
    await sale();
    const [payout] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    expect(payout).toMatchObject({
      status: "paid",
      amount: 8_500n,
      pspPayoutReference: expect.stringMatching(/^tr_/),
    });
    expect(transfers()).toMatchObject([
      {
        id: payout!.pspPayoutReference,
        amount: 8_500,
        currency: "usd",
        metadata: { settlekit_payout_id: payout!.id },
      },
    ]);
    expect(posts(/^\/v1\/transfers$/)).toMatchObject([{ idempotencyKey: `payout:${payout!.id}` }]);
    await drain();
    expect(world.published.filter((e) => e.aggregateType === "payout").map((e) => e.type)).toEqual([
      "payout.created",
      "payout.paid",
    ]);
    await expectBooksBalance();
  });

  it("a transfer whose answer was lost is found by the payout id: one transfer, paid once", async () => {
    await open();
    await sale();
    // Stripe made the transfer; the client got a 500.
    world.fake.failNext("500-lost", (r) => r.method === "POST" && r.path === "/v1/transfers");
    const [payout] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    expect(payout).toMatchObject({ status: "pending" });
    expect(transfers()).toHaveLength(1);
    await drain();
    expect((await world.sdk.getPayout(payout!.id)).payout).toMatchObject({
      status: "paid",
      pspPayoutReference: transfers()[0]!.id,
    });
    expect(transfers()).toHaveLength(1);
    await expectBooksBalance();
  });

  it("a transfer Stripe refuses fails the payout with its reason and puts the money back", async () => {
    await open();
    await sale();
    world.fake.restrictTransfers(STRIPE_ACCOUNTS.S1!);
    const [payout] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    expect(payout).toMatchObject({ status: "failed", failureCode: "transfers_not_allowed" });
    expect(transfers()).toEqual([]);
    expect(await world.sdk.sellerWallet("S1")).toMatchObject({
      balances: [
        { available: 8_500n, reserved: 0n, paidOut: 0n, payoutNotice: { code: "transfers_not_allowed" } },
      ],
    });
    world.fake.restrictTransfers(STRIPE_ACCOUNTS.S1!, false);
    const [next] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    expect(next).toMatchObject({ status: "paid", amount: 8_500n });
    await expectBooksBalance();
  });

  it("a refund after payout is clawed back by a transfer reversal, found again after a lost answer", async () => {
    await open({ clawbacks: "reverse_payouts" });
    const { paymentId, order } = await sale();
    const [payout] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    world.fake.failNext("500-lost", (r) => r.method === "POST" && /\/reversals$/.test(r.path));
    await world.sdk.refundPayment(
      paymentId,
      { paymentOrderId: order, amount: 4_000n },
      { idempotencyKey: "r1" },
    );
    await world.deliver();
    expect(await available()).toBe(-3_600n);
    await drain();
    // One reversal of the seller's 36.00, made under the clawback's id; asked for after the 500.
    expect(reversals()).toMatchObject([
      {
        amount: 3_600,
        transfer: payout!.pspPayoutReference,
        metadata: {
          settlekit_payout_id: payout!.id,
          settlekit_reversal_id: expect.stringMatching(/^clawback:rf_/),
        },
      },
    ]);
    expect(posts(/\/reversals$/)).toHaveLength(1);
    expect(world.fake.requests.some((r) => r.method === "GET" && /\/reversals$/.test(r.path))).toBe(true);
    expect((await world.sdk.getPayout(payout!.id)).payout).toMatchObject({
      status: "reversed",
      amountReversed: 3_600n,
      failureCode: "refund_clawback",
    });
    expect(await available()).toBe(0n);
    // The rest of the order: the rest of the transfer (60.00 less 6.00 commission, capped at 49.00).
    await world.sdk.refundPayment(paymentId, { paymentOrderId: order }, { idempotencyKey: "r2" });
    await world.deliver();
    await drain();
    expect(
      reversals()
        .map((r) => r.amount)
        .sort(),
    ).toEqual([3_600, 4_900]);
    expect(transfers()[0]).toMatchObject({ amount_reversed: 8_500, reversed: true });
    expect(await available()).toBe(-500n);
    await expectBooksBalance();
  });

  it("a transfer reversal Stripe refuses falls back to netting, and says why", async () => {
    await open({ clawbacks: "reverse_payouts" });
    const { paymentId, order } = await sale();
    const [payout] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    await world.sdk.refundPayment(
      paymentId,
      { paymentOrderId: order, amount: 4_000n },
      { idempotencyKey: "r1" },
    );
    await world.deliver();
    // Before the clawback runs, the whole transfer is taken back at Stripe (the dashboard).
    world.fake.reverseTransfer(payout!.pspPayoutReference!);
    await drain();
    expect(posts(/\/reversals$/)).toHaveLength(1);
    expect(reversals()).toHaveLength(1);
    expect(world.published.filter((e) => e.type === "payout.clawback_failed")).toMatchObject([
      {
        aggregateId: payout!.id,
        payload: {
          clawback_failure_reason: "psp_rejected:transfer_already_reversed",
          fallback: "net_next_payout",
        },
      },
    ]);
    // The dashboard reversal is booked from its webhook: all 85.00 back, less the refund's 36.00.
    expect((await world.sdk.getPayout(payout!.id)).payout).toMatchObject({ amountReversed: 8_500n });
    expect(await available()).toBe(8_500n - 3_600n);
    await expectBooksBalance();
  });
});
