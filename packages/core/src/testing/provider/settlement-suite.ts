import type { TestContext } from "vitest";
import { describe, expect, it } from "vitest";
import type { SettlementQuery, SettlementRecord } from "../../ports/psp.js";
import { registered, unique } from "./fixtures.js";
import type { ProviderHarness } from "./harness.js";

const DAY = 86_400_000;

/**
 * `readSettlement` (optional): the PSP's record of the money a payment moved — its charge with
 * an exact fee and net, its refund, its payout — the same on every read, nothing for a decline.
 */
export function settlementSuite(current: () => ProviderHarness): void {
  describe("settlement records", () => {
    const needs = (context: TestContext, harness: ProviderHarness) => {
      const { provider } = harness;
      if (!provider.capabilities.settlementReports || !provider.readSettlement) return context.skip();
      const read = provider.readSettlement.bind(provider);
      return async (query: SettlementQuery): Promise<SettlementRecord[]> => {
        const records: SettlementRecord[] = [];
        for await (const record of read(query)) records.push(record);
        return records;
      };
    };

    it("lists a paid payment's charge, refund and payout with exact amounts, the same on every read", async (context) => {
      const harness = current();
      const read = needs(context, harness);
      const from = new Date(Math.floor(harness.now().getTime() / 1000) * 1000 - 1000);
      const { input, pspReference } = await registered(harness);
      const declined = await registered(harness);
      await harness.pay(declined.pspReference, "declined");
      await harness.pay(pspReference, "succeeded");
      const { refundReference } = await harness.provider.refund({
        pspReference,
        refundId: unique("rf"),
        amount: 2_345n,
        currency: "USD",
        idempotencyKey: unique("rfk"),
      });
      const payout =
        harness.provider.capabilities.payouts && harness.provider.payout
          ? await harness.provider.payout({
              payoutId: unique("po"),
              sellerId: "S1",
              amount: 10_000n,
              currency: "USD",
              paymentId: input.paymentId,
              pspReference,
              idempotencyKey: unique("pok"),
            })
          : undefined;
      await harness.runBankPayouts?.();
      const query = { from, to: new Date(harness.now().getTime() + DAY) };
      const records = await read(query);

      const ours = records.filter((r) => r.paymentId === input.paymentId);
      const charge = ours.find((r) => r.type === "charge");
      expect(charge).toMatchObject({ amount: 12_345n, currency: "USD" });
      expect(charge!.fee).toBeGreaterThanOrEqual(0n);
      expect(charge!.net).toBe(charge!.amount - charge!.fee);
      const refunds = ours.filter((r) => r.type === "refund");
      expect(refunds).toEqual([
        expect.objectContaining({ refundReference, amount: -2_345n, currency: "USD" }),
      ]);
      expect(refunds[0]!.net).toBe(refunds[0]!.amount - refunds[0]!.fee);
      if (payout) {
        expect(records.filter((r) => r.payoutReference === payout.payoutReference)).toEqual([
          expect.objectContaining({ type: "payout", amount: -10_000n, currency: "USD" }),
        ]);
      }
      expect(records.filter((r) => r.paymentId === declined.input.paymentId)).toEqual([]);
      expect(new Set(records.map((r) => r.recordId)).size).toBe(records.length);
      expect(await read(query)).toEqual(records);
    });

    it("keeps to the window it is asked for", async (context) => {
      const harness = current();
      const read = needs(context, harness);
      const { input, pspReference } = await registered(harness);
      await harness.pay(pspReference, "succeeded");
      await harness.runBankPayouts?.();
      const now = harness.now().getTime();
      const before = await read({ from: new Date(now - 2 * DAY), to: new Date(now - DAY) });
      expect(before.filter((r) => r.paymentId === input.paymentId)).toEqual([]);
    });
  });
}
