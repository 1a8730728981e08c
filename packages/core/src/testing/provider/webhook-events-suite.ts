import { describe, expect, it } from "vitest";
import type { PspEvent } from "../../ports/psp.js";
import { acceptsCurrency, paymentEvents, receivedEvents, registered, statusTrail } from "./fixtures.js";
import type { ProviderHarness } from "./harness.js";

type FailureCodes = { readonly declined: string; readonly insufficientFunds: string };

/** Verified webhooks normalised into `PspEvent`s: status mapping, fields, ids, unknown types. */
export function webhookEventsSuite(current: () => ProviderHarness, codes: FailureCodes): void {
  describe("webhook events", () => {
    it("reports a card payment as succeeded with the payment, amount and currency exact", async () => {
      const harness = current();
      const { input, pspReference } = await registered(harness);
      await harness.pay(pspReference, "succeeded");
      const events = await receivedEvents(harness);
      expect(statusTrail(events, pspReference)).toEqual(["succeeded"]);
      const [succeeded] = paymentEvents(events, pspReference);
      expect(succeeded).toMatchObject({
        kind: "payment",
        pspReference,
        paymentId: input.paymentId,
        status: "succeeded",
        amount: 12_345n,
        currency: "USD",
      });
      expect(succeeded?.occurredAt).toBeInstanceOf(Date);
    });

    it.each([
      ["declined", "declined" as const],
      ["insufficient funds", "insufficient_funds" as const],
    ])("reports a %s card as failed with the PSP's failure code", async (_label, outcome) => {
      const harness = current();
      const { pspReference } = await registered(harness);
      await harness.pay(pspReference, outcome);
      const events = await receivedEvents(harness);
      expect(statusTrail(events, pspReference)).toEqual(["failed"]);
      const expected = outcome === "declined" ? codes.declined : codes.insufficientFunds;
      expect(paymentEvents(events, pspReference).at(-1)).toMatchObject({
        status: "failed",
        failureCode: expected,
      });
    });

    it("reports processing, then succeeded when the money arrives", async () => {
      const harness = current();
      const { pspReference } = await registered(harness);
      await harness.pay(pspReference, "processing");
      expect(statusTrail(await receivedEvents(harness), pspReference)).toEqual(["processing"]);
      await harness.settle(pspReference);
      const settled = await receivedEvents(harness);
      expect(statusTrail(settled, pspReference)).toEqual(["succeeded"]);
      expect(paymentEvents(settled, pspReference).at(-1)?.amount).toBe(12_345n);
    });

    it("puts the amount and currency captured on every succeeded event (JPY, after processing; USD, after a decline)", async () => {
      // The port's contract: settlekit checks them against the payment before it applies a success.
      const harness = current();
      // The JPY half needs a provider that takes JPY (Square takes its location's currency only).
      const yen = acceptsCurrency(harness, "JPY")
        ? await registered(harness, {
            amount: 3_200n,
            currency: "JPY",
            orders: [
              { paymentOrderId: "yen_o1", sellerId: "S1", amount: 3_200n, description: "Matcha, 40 g" },
            ],
          })
        : undefined;
      if (yen) {
        await harness.pay(yen.pspReference, "processing");
        await harness.settle(yen.pspReference);
      }
      const usd = await registered(harness);
      await harness.pay(usd.pspReference, "declined");
      await harness.pay(usd.pspReference, "succeeded");
      const events = await receivedEvents(harness);
      const expected: (readonly [string, bigint, string])[] = [[usd.pspReference, 12_345n, "USD"]];
      if (yen) expected.unshift([yen.pspReference, 3_200n, "JPY"]);
      for (const [ref, amount, currency] of expected) {
        const succeeded = paymentEvents(events, ref).filter((e) => e.status === "succeeded");
        expect(succeeded.length, `succeeded events of a ${currency} payment`).toBeGreaterThan(0);
        for (const event of succeeded)
          expect({ amount: event.amount, currency: event.currency }).toEqual({ amount, currency });
      }
    });

    it("reports a retry on the hosted page after a decline: failed, then succeeded", async () => {
      const harness = current();
      const { pspReference } = await registered(harness);
      await harness.pay(pspReference, "declined");
      await harness.pay(pspReference, "succeeded");
      expect(statusTrail(await receivedEvents(harness), pspReference)).toEqual(["failed", "succeeded"]);
    });

    it("reports an unpaid payment the PSP closes as expired", async () => {
      const harness = current();
      const { pspReference } = await registered(harness);
      await harness.expire(pspReference);
      expect(statusTrail(await receivedEvents(harness), pspReference)).toEqual(["expired"]);
    });

    it("gives every event its own id and sends nothing for another reference", async () => {
      const harness = current();
      const a = await registered(harness);
      const b = await registered(harness);
      await harness.pay(a.pspReference, "declined");
      await harness.pay(a.pspReference, "succeeded");
      const events = await receivedEvents(harness);
      const ids = events.map((e) => e.eventId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(paymentEvents(events, b.pspReference)).toEqual([]);
    });

    it("acknowledges a verified event of a type it does not act on as ignored", async () => {
      const harness = current();
      const rawBody = harness.ignoredEventBody();
      const events = await harness.provider.parseWebhook({
        rawBody,
        headers: harness.sign(rawBody),
        now: harness.now(),
      });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ kind: "ignored" });
      expect(events[0]?.eventId).toMatch(/\S/);
    });

    it("accepts the body as bytes as well as a string", async () => {
      const harness = current();
      const { pspReference } = await registered(harness);
      await harness.pay(pspReference, "succeeded");
      const events: PspEvent[] = [];
      for (const webhook of await harness.webhooks()) {
        const rawBody = new TextEncoder().encode(webhook.rawBody);
        events.push(
          ...(await harness.provider.parseWebhook({ rawBody, headers: webhook.headers, now: harness.now() })),
        );
      }
      expect(statusTrail(events, pspReference)).toEqual(["succeeded"]);
    });
  });
}
