import type { CurrencyCode } from "@settlekit/core";
import { commissionAndLogistics, staticFxRates } from "@settlekit/core";
import { afterEach, describe, expect, it } from "vitest";
import type { World } from "./support/world.js";
import { balancesOf, cart, DIALECTS, makeWorld, referenceOf } from "./support/world.js";

const fees = commissionAndLogistics({ commissionBasisPoints: 1_000, logistics: { USD: 500n } });
const rates = staticFxRates({ "USD/JPY": "157.23", "EUR/KWD": "0.33921" });

describe.each(DIALECTS)("FX payouts on %s", (dialect) => {
  let world: World;
  afterEach(async () => world?.close());

  async function open() {
    world = await makeWorld(dialect, { fees, fxRates: rates, fxSpreadBps: 100 });
  }

  /** S1 sells `amount` in `currency`, fulfilled. */
  async function sale(currency: CurrencyCode, amount: bigint) {
    const { payment } = await world.sdk.createPayment(
      cart({ currency, orders: [{ sellerId: "S1", amount }] }),
      { idempotencyKey: `k-${Math.random()}` },
    );
    await world.sandbox.pay(referenceOf({ redirect_url: payment.redirectUrl }), {});
    await world.deliver();
    const [order] = (await world.sdk.getPayment(payment.id)).orders;
    await world.sdk.fulfilOrder({ paymentOrderId: order!.id });
  }

  const sums = async () => {
    const byCurrency = new Map<string, bigint>();
    for (const [key, balance] of Object.entries(await balancesOf(world))) {
      const currency = key.split(" ")[1]!;
      byCurrency.set(currency, (byCurrency.get(currency) ?? 0n) + balance);
    }
    return byCurrency;
  };

  it("pays USD earnings in JPY at the locked rate, the spread booked as revenue, exact to the yen", async () => {
    await open();
    await sale("USD", 10_000n); // 85.00 USD net
    await world.sdk.configureSellerPayouts("S1", { interval: "manual", payoutCurrency: "JPY" });
    const [payout] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    // 8 500 cents × 157.23 = 13 364.55 yen → 13 364; 1 % spread, rounded up: 134.
    expect(payout).toMatchObject({
      status: "paid",
      sourceAmount: 8_500n,
      sourceCurrency: "USD",
      amount: 13_230n,
      currency: "JPY",
      fx: {
        rate: "157.23",
        rateId: "static:USD:JPY:157.23",
        convertedAmount: 13_364n,
        spreadAmount: 134n,
        spreadBps: 100,
      },
    });
    expect(world.sandbox.payouts()).toMatchObject([{ sellerId: "S1", amount: 13_230n, currency: "JPY" }]);
    const balances = await balancesOf(world);
    expect(balances["platform:fx USD"]).toBe(-8_500n);
    expect(balances["platform:fx JPY"]).toBe(13_364n);
    expect(balances["platform:fx_revenue JPY"]).toBe(-134n);
    expect(balances["psp:sandbox:payouts JPY"]).toBe(-13_230n);
    for (const [currency, sum] of await sums()) expect(sum, currency).toBe(0n);
    expect(await world.sdk.sellerWallet("S1")).toMatchObject({
      balances: [
        { currency: "JPY", paidOut: 13_230n, reserved: 0n },
        { currency: "USD", available: 0n },
      ],
    });
  });

  it("pays EUR earnings in KWD to the fils, and a payout returned by the bank reverses at the locked rate", async () => {
    await open();
    await sale("EUR", 10_000n); // 90.00 EUR net (no logistics fee in EUR)
    await world.sdk.configureSellerPayouts("S1", { interval: "manual", payoutCurrency: "KWD" });
    const before = await balancesOf(world);
    const [payout] = (await world.sdk.requestPayout({ sellerId: "S1" })).payouts;
    // 9 000 cents × 0.33921 = 30.5289 KWD → 30 528 fils; 1 % spread rounded up: 306.
    expect(payout).toMatchObject({
      amount: 30_222n,
      currency: "KWD",
      fx: { convertedAmount: 30_528n, spreadAmount: 306n },
    });

    // The seller's bank returns it: the money comes back, at the rate it went out at.
    world.sandbox.faults.failPayoutAfterPaid(payout!.pspPayoutReference!, {
      failureReason: "account_closed",
    });
    await world.deliver();
    await world.work();
    const { payout: reversed } = await world.sdk.getPayout(payout!.id);
    expect(reversed).toMatchObject({
      status: "reversed",
      amountReversed: 30_222n,
      failureCode: "bank_returned",
    });
    const after = await balancesOf(world);
    // No phantom balance: every account is back where it was, the spread included.
    for (const account of [
      "seller:S1:available EUR",
      "platform:fx EUR",
      "platform:fx KWD",
      "platform:fx_revenue KWD",
    ]) {
      expect(after[account] ?? 0n, account).toBe(before[account] ?? 0n);
    }
    expect(after["psp:sandbox:payouts KWD"]).toBe(0n);
    for (const [currency, sum] of await sums()) expect(sum, currency).toBe(0n);
    expect(await world.sdk.sellerWallet("S1")).toMatchObject({
      balances: [
        { currency: "EUR", available: 9_000n, payoutNotice: { payoutId: payout!.id, code: "bank_returned" } },
        { currency: "KWD", paidOut: 0n },
      ],
    });
  });

  it("gives up on a rate feed that never answers, within the PSP timeout, reserving nothing", async () => {
    world = await makeWorld(dialect, {
      fees,
      fxRates: { getRate: () => new Promise(() => undefined) },
      pspTimeoutMs: 100,
    });
    await sale("USD", 10_000n);
    await world.sdk.configureSellerPayouts("S1", { interval: "manual", payoutCurrency: "JPY" });
    await expect(world.sdk.requestPayout({ sellerId: "S1" })).rejects.toMatchObject({
      code: "FX_RATE_UNAVAILABLE",
    });
    expect((await world.sdk.listSellerPayouts("S1")).data).toEqual([]);
  });

  it("reserves nothing when no valid rate exists, and says why", async () => {
    await open();
    await sale("USD", 10_000n);
    await world.sdk.configureSellerPayouts("S1", { interval: "manual", payoutCurrency: "CHF" });
    await expect(world.sdk.requestPayout({ sellerId: "S1" })).rejects.toMatchObject({
      code: "FX_RATE_UNAVAILABLE",
    });
    expect(await world.sdk.sellerWallet("S1")).toMatchObject({
      balances: [{ currency: "USD", available: 8_500n }],
    });
    expect((await world.sdk.listSellerPayouts("S1")).data).toEqual([]);
  });
});
