import type { TestContext } from "vitest";
import { describe, expect, it } from "vitest";
import type { PayoutInput, PspEvent, RetrievePayoutInput, ReversePayoutInput } from "../../ports/psp.js";
import { expectRejection } from "../expect-rejection.js";
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

/** What `retrievePayout` is asked for `input`, with `createdAt` (when given) as the payout's creation. */
const lookupOf = (input: PayoutInput, createdAt?: Date): RetrievePayoutInput => ({
  payoutId: input.payoutId,
  sellerId: input.sellerId,
  currency: input.currency,
  ...(createdAt ? { createdAt } : {}),
});

/** The payout events about one payout, in arrival order. */
const payoutEvents = (events: readonly PspEvent[], payoutReference: string) =>
  events.flatMap((e) => (e.kind === "payout" && e.payoutReference === payoutReference ? [e] : []));

/**
 * `payout` (optional): a seller's money sent once per key and once per settlekit payout id, bad
 * input refused before anything moves; `retrievePayout` finding what was made (after a lost
 * answer too) and nothing else; failures classified (refused, unreachable, lost answer) with
 * nothing paid twice; payouts failing or reversed afterwards reported; `reversePayout` taking
 * money back partially, never more than the payout, once per key. Checked against the PSP's own
 * list of payouts.
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
    /** {@link needs} plus `retrievePayout`, or a skip when the provider has none. */
    const needsLookup = (context: TestContext, harness: ProviderHarness) => {
      const base = needs(context, harness);
      const { provider } = harness;
      if (!provider.retrievePayout) return context.skip("the provider has no retrievePayout");
      return { ...base, retrieve: provider.retrievePayout.bind(provider) };
    };
    /** {@link needs} plus the harness's payout faults, or a skip when it cannot inject them. */
    const needsFaults = (context: TestContext, harness: ProviderHarness) => {
      const base = needsLookup(context, harness);
      if (!harness.failNextPayout) return context.skip("the harness cannot inject payout failures");
      return { ...base, failNext: harness.failNextPayout.bind(harness) };
    };
    /** {@link needs} plus `reversePayout`, or a skip when the provider cannot take payouts back. */
    const needsReversal = (context: TestContext, harness: ProviderHarness) => {
      const base = needs(context, harness);
      const { provider } = harness;
      if (!provider.capabilities.payoutReversals || !provider.reversePayout) return context.skip();
      return { ...base, reverse: provider.reversePayout.bind(provider) };
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
      const createdAt = harness.now();
      const first = await payout(input);
      const again = await payout({ ...input, idempotencyKey: unique("pok") });
      expect(again.payoutReference).toBe(first.payoutReference);
      // With the payout's creation time as a search hint too.
      const hinted = await payout({ ...input, idempotencyKey: unique("pok"), createdAt });
      expect(hinted.payoutReference).toBe(first.payoutReference);
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

    it("retrievePayout finds a payout made, as payout answered it, and null for a payout never made", async (context) => {
      const harness = current();
      const { payout, retrieve } = needsLookup(context, harness);
      const input = await fundedPayout(harness);
      const createdAt = harness.now();
      expect(await retrieve(lookupOf(input, createdAt))).toBeNull();
      const first = await payout(input);
      expect(await retrieve(lookupOf(input, createdAt))).toEqual(first);
      // Without a creation time the search covers the seller's history.
      expect(await retrieve(lookupOf(input))).toEqual(first);
      expect(await retrieve({ ...lookupOf(input, createdAt), payoutId: unique("po") })).toBeNull();
      // The payout id was paid to S1, not to S2.
      expect(await retrieve({ ...lookupOf(input, createdAt), sellerId: "S2" })).toBeNull();
    });

    it("after a lost answer, retrievePayout finds the one payout made and a retry with the same key pays nothing more", async (context) => {
      const harness = current();
      const { payout, made, retrieve, failNext } = needsFaults(context, harness);
      const input = await fundedPayout(harness);
      const createdAt = harness.now();
      failNext("timeout");
      await expectPspError(payout(input), "PSP_TIMEOUT", "indeterminate", { sent: input });
      // The PSP did pay: only the answer was lost.
      const paid = await made();
      expect(paid).toEqual([
        { payoutReference: expect.any(String), sellerId: "S1", amount: 10_000n, currency: "USD" },
      ]);
      const found = await retrieve(lookupOf(input, createdAt));
      expect(found).toMatchObject({ payoutReference: paid[0]!.payoutReference });
      expect(["pending", "paid"]).toContain(found?.status);
      expect(await payout(input)).toEqual(found);
      expect(await payout({ ...input, idempotencyKey: unique("pok") })).toEqual(found);
      expect(await made()).toHaveLength(1);
    });

    it("classifies a refusal before anything happened as retryable PSP_UNAVAILABLE with nothing paid; the retry pays once", async (context) => {
      const harness = current();
      const { payout, made, retrieve, failNext } = needsFaults(context, harness);
      const input = await fundedPayout(harness);
      failNext("unavailable");
      await expectPspError(payout(input), "PSP_UNAVAILABLE", "retryable", { sent: input });
      expect(await made()).toEqual([]);
      expect(await retrieve(lookupOf(input, harness.now()))).toBeNull();
      const retried = await payout(input);
      expect(await made()).toEqual([
        { payoutReference: retried.payoutReference, sellerId: "S1", amount: 10_000n, currency: "USD" },
      ]);
    });

    it("rejects a payout to an account that cannot receive money as fatal PSP_REQUEST_REJECTED (param sellerId, the reason as pspCode) and pays nothing", async (context) => {
      const harness = current();
      const { payout, made, retrieve, failNext } = needsFaults(context, harness);
      const input = await fundedPayout(harness);
      failNext("refused");
      // The reason is the PSP's code: what the runner tells the seller ("bank account closed").
      await expectRejection(
        payout(input),
        {
          name: "SettlekitError",
          code: "PSP_REQUEST_REJECTED",
          kind: "fatal",
          param: "sellerId",
          pspCode: expect.stringMatching(/^\S+$/),
        },
        input,
      );
      expect(await made()).toEqual([]);
      expect(await retrieve(lookupOf(input, harness.now()))).toBeNull();
      // The PSP keeps its answer per key, refusals included: a second sender of the same payout
      // (same key) is refused again and nothing is paid under the key that was refused.
      await expectRejection(
        payout({ ...input }),
        { name: "SettlekitError", code: "PSP_REQUEST_REJECTED", kind: "fatal" },
        input,
      );
      expect(await made()).toEqual([]);
    });

    it("answers retrievePayout on an unreachable PSP with a retryable PspError", async (context) => {
      const harness = current();
      const { retrieve } = needsLookup(context, harness);
      if (!harness.failNextPayoutLookup) return context.skip("the harness cannot make payout lookups fail");
      const input = await fundedPayout(harness);
      harness.failNextPayoutLookup();
      await expectPspError(retrieve(lookupOf(input, harness.now())), "PSP_UNAVAILABLE", "retryable", {
        sent: lookupOf(input),
      });
    });

    it("reports a paid payout that fails afterwards: a failed payout event with the reason, and failed when found again", async (context) => {
      const harness = current();
      const { payout, retrieve } = needsLookup(context, harness);
      if (!harness.failPaidPayout) return context.skip("the PSP's payouts cannot fail once made");
      const input = await fundedPayout(harness);
      const { payoutReference } = await payout(input);
      await harness.webhooks();
      await harness.failPaidPayout(payoutReference);
      const events = payoutEvents(await receivedEvents(harness), payoutReference);
      expect(events).toEqual([
        expect.objectContaining({
          kind: "payout",
          payoutId: input.payoutId,
          status: "failed",
          failureReason: expect.stringMatching(/^\S+$/),
          amount: 10_000n,
          currency: "USD",
        }),
      ]);
      const failed = { payoutReference, status: "failed", failureReason: events[0]!.failureReason };
      expect(await retrieve(lookupOf(input, harness.now()))).toEqual(failed);
      expect(await payout(input)).toEqual(failed);
    });

    it("reversePayout takes back part of a payout, then the rest, never more, once per key", async (context) => {
      const harness = current();
      const { payout, reverse } = needsReversal(context, harness);
      const input = await fundedPayout(harness);
      const { payoutReference } = await payout(input);
      await harness.webhooks();
      const ask = (amount: bigint): ReversePayoutInput => ({
        payoutReference,
        payoutId: input.payoutId,
        amount,
        currency: "USD",
        idempotencyKey: unique("rvk"),
      });
      const part = ask(2_500n);
      const first = await reverse(part);
      expect(first).toEqual({
        reversalReference: expect.stringMatching(/\S/),
        amount: 2_500n,
        amountReversed: 2_500n,
      });
      expect(await reverse({ ...part })).toEqual(first);
      const changed = { ...part, amount: 2_600n };
      await expectPspError(reverse(changed), "PSP_REQUEST_REJECTED", "fatal", { sent: changed });
      const tooMuch = ask(7_501n);
      await expectPspError(reverse(tooMuch), "PSP_REQUEST_REJECTED", "fatal", {
        param: "amount",
        sent: tooMuch,
      });
      const rest = await reverse(ask(7_500n));
      expect(rest).toMatchObject({ amount: 7_500n, amountReversed: 10_000n });
      expect(rest.reversalReference).not.toBe(first.reversalReference);
      const more = ask(1n);
      await expectPspError(reverse(more), "PSP_REQUEST_REJECTED", "fatal", { param: "amount", sent: more });
      // The first request replayed after the payout is all back still answers what it did.
      expect(await reverse({ ...part })).toEqual(first);
      expect(payoutEvents(await receivedEvents(harness), payoutReference)).toEqual([
        expect.objectContaining({ status: "partially_reversed", amount: 10_000n, amountReversed: 2_500n }),
        expect.objectContaining({ status: "reversed", amount: 10_000n, amountReversed: 10_000n }),
      ]);
      expect(await payout(input)).toMatchObject({
        payoutReference,
        status: "reversed",
        amountReversed: 10_000n,
      });
      if (harness.provider.retrievePayout) {
        expect(await harness.provider.retrievePayout(lookupOf(input))).toMatchObject({
          payoutReference,
          status: "reversed",
          amountReversed: 10_000n,
        });
      }
    });

    it.for<[string, string, (input: ReversePayoutInput) => Partial<ReversePayoutInput>]>([
      ["amount", "zero", () => ({ amount: 0n })],
      ["currency", "another currency than the payout's", () => ({ currency: "EUR" })],
      ["payoutId", "another payout's id", () => ({ payoutId: unique("po") })],
    ])(
      "reversePayout rejects %s (%s) as fatal PSP_REQUEST_REJECTED and takes nothing back",
      async ([param, , change], context) => {
        const harness = current();
        const { payout, reverse } = needsReversal(context, harness);
        const input = await fundedPayout(harness);
        const { payoutReference } = await payout(input);
        const base: ReversePayoutInput = {
          payoutReference,
          payoutId: input.payoutId,
          amount: 1_000n,
          currency: "USD",
          idempotencyKey: unique("rvk"),
        };
        const sent = { ...base, ...change(base) };
        await expectPspError(reverse(sent), "PSP_REQUEST_REJECTED", "fatal", { param, sent });
        const again = await payout(input);
        expect(again.payoutReference).toBe(payoutReference);
        expect(["pending", "paid"]).toContain(again.status);
        expect(again.amountReversed).toBeUndefined();
      },
    );

    it("reversePayout of an unknown payout is a fatal NOT_FOUND", async (context) => {
      const harness = current();
      const { payout, reverse } = needsReversal(context, harness);
      const input = await fundedPayout(harness);
      const { payoutReference } = await payout(input);
      const sent: ReversePayoutInput = {
        payoutReference: `${payoutReference}x`,
        payoutId: input.payoutId,
        amount: 1_000n,
        currency: "USD",
        idempotencyKey: unique("rvk"),
      };
      await expectPspError(reverse(sent), "NOT_FOUND", "fatal", { sent });
    });

    it("retrievePayoutReversal finds a reversal by settlekit's reversalId, null for one never made", async (context) => {
      const harness = current();
      const { payout, reverse } = needsReversal(context, harness);
      const find = harness.provider.retrievePayoutReversal?.bind(harness.provider);
      if (!find) return context.skip("the provider has no retrievePayoutReversal");
      const input = await fundedPayout(harness);
      const { payoutReference } = await payout(input);
      const lookup = (reversalId: string) => ({
        payoutReference,
        payoutId: input.payoutId,
        reversalId,
        currency: "USD",
      });
      const reversalId = unique("clawback");
      expect(await find(lookup(reversalId))).toBeNull();
      const made = await reverse({
        payoutReference,
        payoutId: input.payoutId,
        amount: 2_500n,
        currency: "USD",
        idempotencyKey: unique("rvk"),
        reversalId,
      });
      await reverse({
        payoutReference,
        payoutId: input.payoutId,
        amount: 1_000n,
        currency: "USD",
        idempotencyKey: unique("rvk"),
        reversalId: unique("clawback"),
      });
      // Found with the payout's running total as of now (both reversals).
      expect(await find(lookup(reversalId))).toEqual({
        reversalReference: made.reversalReference,
        amount: 2_500n,
        amountReversed: 3_500n,
      });
      expect(await find(lookup(unique("clawback")))).toBeNull();
      await expectPspError(
        find({ ...lookup(reversalId), payoutReference: `${payoutReference}x` }),
        "NOT_FOUND",
        "fatal",
      );
    });
  });
}
