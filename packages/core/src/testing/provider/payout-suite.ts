import type { TestContext } from "vitest";
import { describe, expect, it } from "vitest";
import type { PayoutInput } from "../../ports/psp.js";
import { expectPspError, receivedEvents, registered, unique } from "./fixtures.js";
import type { ProviderHarness } from "./harness.js";

/** A paid USD 123.45 payment (so the PSP holds the money) and a payout of its first order to S1. */
async function fundedPayout(harness: ProviderHarness): Promise<PayoutInput> {
  const { input, pspReference } = await registered(harness);
  await harness.pay(pspReference, "succeeded");
  await harness.webhooks();
  return {
    payoutId: unique("po"),
    sellerId: "S1",
    amount: 10_000n,
    currency: "USD",
    paymentId: input.paymentId,
    pspReference,
    idempotencyKey: unique("pok"),
  };
}

/**
 * `payout` (optional): a seller's money sent once per key and once per settlekit payout id, bad
 * input refused before anything moves. Checked against the PSP's own list of payouts.
 */
export function payoutSuite(current: () => ProviderHarness): void {
  describe("payouts", () => {
    /** The provider's `payout` and the harness's read-back, or a skip when payouts are not supported. */
    const needs = (context: TestContext, harness: ProviderHarness) => {
      const { provider } = harness;
      if (!provider.capabilities.payouts || !provider.payout) return context.skip();
      if (!harness.payoutsMade) throw new Error("a harness for a provider with payouts needs payoutsMade()");
      return { payout: provider.payout.bind(provider), made: harness.payoutsMade.bind(harness) };
    };

    it("pays a seller once per key: a replay returns the same payout", async (context) => {
      const harness = current();
      const { payout, made } = needs(context, harness);
      const input = await fundedPayout(harness);
      const first = await payout(input);
      expect(first.payoutReference).toMatch(/\S/);
      expect(["pending", "paid"]).toContain(first.status);
      expect(await payout({ ...input })).toEqual(first);
      expect(await made()).toEqual([
        { payoutReference: first.payoutReference, sellerId: "S1", amount: 10_000n, currency: "USD" },
      ]);
    });

    it("treats a payout id already paid under another key as success", async (context) => {
      const harness = current();
      const { payout, made } = needs(context, harness);
      const input = await fundedPayout(harness);
      const first = await payout(input);
      const again = await payout({ ...input, idempotencyKey: unique("pok") });
      expect(again.payoutReference).toBe(first.payoutReference);
      expect(await made()).toHaveLength(1);
    });

    it("pays two sellers of one payment separately", async (context) => {
      const harness = current();
      const { payout, made } = needs(context, harness);
      const input = await fundedPayout(harness);
      const s1 = await payout(input);
      const s2 = await payout({
        ...input,
        payoutId: unique("po"),
        sellerId: "S2",
        amount: 2_345n,
        idempotencyKey: unique("pok"),
      });
      expect(s2.payoutReference).not.toBe(s1.payoutReference);
      expect((await made()).map((p) => [p.sellerId, p.amount])).toEqual([
        ["S1", 10_000n],
        ["S2", 2_345n],
      ]);
    });

    it("reports a partial reversal as partially_reversed with the running total, a full one as reversed", async (context) => {
      const harness = current();
      const { payout } = needs(context, harness);
      if (!harness.reversePayout) return context.skip();
      const input = await fundedPayout(harness);
      const { payoutReference } = await payout(input);
      await harness.webhooks();
      const reports = async () =>
        (await receivedEvents(harness)).flatMap((e) =>
          e.kind === "payout" && e.payoutReference === payoutReference ? [e] : [],
        );
      await harness.reversePayout(payoutReference, 2_500n);
      expect(await reports()).toEqual([
        expect.objectContaining({ status: "partially_reversed", amount: 10_000n, amountReversed: 2_500n }),
      ]);
      await harness.reversePayout(payoutReference);
      expect(await reports()).toEqual([
        expect.objectContaining({ status: "reversed", amount: 10_000n, amountReversed: 10_000n }),
      ]);
      // Found again (a lost answer retried under a new key), the payout says so too.
      expect(await payout({ ...input, idempotencyKey: unique("pok") })).toMatchObject({
        payoutReference,
        status: "reversed",
        amountReversed: 10_000n,
      });
    });

    it("rejects the same key with a different amount as fatal PSP_REQUEST_REJECTED", async (context) => {
      const harness = current();
      const { payout, made } = needs(context, harness);
      const input = await fundedPayout(harness);
      await payout(input);
      const changed = { ...input, amount: 9_999n };
      await expectPspError(payout(changed), "PSP_REQUEST_REJECTED", "fatal", { sent: changed });
      expect(await made()).toHaveLength(1);
    });

    it.for<[string, string, Partial<PayoutInput>]>([
      ["amount", "zero", { amount: 0n }],
      ["amount", "negative", { amount: -1n }],
      ["currency", "lowercase usd", { currency: "usd" }],
      ["currency", "XTS, the testing code", { currency: "XTS" }],
    ])(
      "rejects an invalid %s (%s) as fatal PSP_REQUEST_REJECTED and pays nothing",
      async ([param, , change], context) => {
        const harness = current();
        const { payout, made } = needs(context, harness);
        const input = await fundedPayout(harness);
        const sent = { ...input, ...change };
        await expectPspError(payout(sent), "PSP_REQUEST_REJECTED", "fatal", { param, sent });
        expect(await made()).toEqual([]);
      },
    );

    it("rejects a seller the PSP cannot pay as fatal PSP_REQUEST_REJECTED", async (context) => {
      const harness = current();
      const { payout, made } = needs(context, harness);
      if (harness.unknownSellerId === undefined) return context.skip();
      const input = await fundedPayout(harness);
      const sent = { ...input, sellerId: harness.unknownSellerId };
      await expectPspError(payout(sent), "PSP_REQUEST_REJECTED", "fatal", { param: "sellerId", sent });
      expect(await made()).toEqual([]);
    });
  });
}
