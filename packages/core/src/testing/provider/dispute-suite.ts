import { describe, expect, it } from "vitest";
import type { PspEvent } from "../../ports/psp.js";
import type { PspDisputeEvent } from "../../ports/psp-dispute.js";
import { receivedEvents, registered, unique } from "./fixtures.js";
import type { ProviderHarness } from "./harness.js";

/** The dispute events about one payment, in arrival order. */
const disputeEvents = (events: readonly PspEvent[], pspReference: string): PspDisputeEvent[] =>
  events.flatMap((e) => (e.kind === "dispute" && e.pspReference === pspReference ? [e] : []));

/**
 * Disputes (chargebacks) reported by webhook: resolved to the reference `createHostedPayment`
 * returned, snapshots of the whole dispute with the money withdrawn and reinstated exact. Runs
 * when the provider declares `capabilities.disputes` (its harness then has `disputes` drivers).
 */
export function disputeSuite(current: () => ProviderHarness): void {
  const skip = (harness: ProviderHarness) => !harness.provider.capabilities.disputes;
  const drivers = (harness: ProviderHarness) => {
    if (!harness.disputes)
      throw new Error("a provider with capabilities.disputes needs the harness's disputes drivers");
    return harness.disputes;
  };
  async function paid(harness: ProviderHarness) {
    const { pspReference } = await registered(harness);
    await harness.pay(pspReference, "succeeded");
    await receivedEvents(harness);
    return pspReference;
  }

  describe("disputes", () => {
    it("reports a dispute of a captured payment, with the amount and fee withdrawn, on the payment's reference", async (ctx) => {
      const harness = current();
      if (skip(harness)) return ctx.skip();
      const pspReference = await paid(harness);
      const disputeReference = await drivers(harness).open(pspReference);
      const events = disputeEvents(await receivedEvents(harness), pspReference);
      expect(events.length).toBeGreaterThan(0);
      expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
      for (const event of events) {
        expect(event).toMatchObject({
          kind: "dispute",
          pspReference,
          disputeReference,
          status: "needs_response",
          amount: 12_345n,
          currency: "USD",
        });
        expect(event.occurredAt).toBeInstanceOf(Date);
        expect(event.evidenceDueBy?.getTime() ?? 0).toBeGreaterThan(harness.now().getTime());
      }
      const withdrawn = events.at(-1)?.fundsWithdrawn;
      expect(withdrawn?.amount).toBe(12_345n);
      expect(typeof withdrawn?.fee === "bigint" && withdrawn.fee >= 0n).toBe(true);
    });

    it("reports a won dispute with what came back, and a lost one with nothing back", async (ctx) => {
      const harness = current();
      if (skip(harness)) return ctx.skip();
      const won = await paid(harness);
      const lost = await paid(harness);
      const wonDispute = await drivers(harness).open(won, 1_000n);
      const lostDispute = await drivers(harness).open(lost, 2_000n);
      await receivedEvents(harness);
      await drivers(harness).win(wonDispute);
      await drivers(harness).lose(lostDispute);
      const events = await receivedEvents(harness);
      expect(disputeEvents(events, won).at(-1)).toMatchObject({
        disputeReference: wonDispute,
        status: "won",
        amount: 1_000n,
        fundsWithdrawn: { amount: 1_000n },
        fundsReinstated: { amount: 1_000n },
      });
      const lastLost = disputeEvents(events, lost).at(-1);
      expect(lastLost).toMatchObject({
        disputeReference: lostDispute,
        status: "lost",
        amount: 2_000n,
        fundsWithdrawn: { amount: 2_000n },
      });
      expect(lastLost?.fundsReinstated).toBeUndefined();
    });

    it("refuses to refund what an open dispute withdrew (the buyer's bank returned it already)", async (ctx) => {
      const harness = current();
      if (skip(harness)) return ctx.skip();
      const pspReference = await paid(harness);
      await drivers(harness).open(pspReference);
      await expect(
        harness.provider.refund({
          pspReference,
          refundId: unique("rf"),
          amount: 12_345n,
          currency: "USD",
          idempotencyKey: unique("refund"),
        }),
      ).rejects.toMatchObject({ name: "SettlekitError", kind: "fatal" });
    });
  });
}
