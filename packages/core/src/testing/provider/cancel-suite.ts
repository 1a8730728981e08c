import type { TestContext } from "vitest";
import { describe, expect, it } from "vitest";
import type { CancelHostedPaymentInput, PspPaymentStatus } from "../../ports/psp.js";
import { expectPspError, receivedEvents, registered, statusTrail, unique } from "./fixtures.js";
import type { ProviderHarness } from "./harness.js";

/** What "did not succeed and never will" looks like when the PSP is asked afterwards. */
const CLOSED: readonly PspPaymentStatus[] = ["canceled", "expired"];

const closing = (
  pspReference: string,
  overrides: Partial<CancelHostedPaymentInput> = {},
): CancelHostedPaymentInput => ({
  pspReference,
  reason: "superseded",
  idempotencyKey: unique("cnl"),
  ...overrides,
});

/**
 * `cancelHostedPayment` (a retry closing the previous attempt, a local expiry closing the page):
 * an open attempt is closed for good and the PSP then refuses to take money on it; one the buyer
 * already paid, or whose money is in flight, is left alone and reported as the PSP holds it.
 */
export function cancelSuite(current: () => ProviderHarness): void {
  describe("cancelHostedPayment", () => {
    /** The provider's cancel, or a skip when it declares none. */
    const cancelOf = (context: TestContext, harness: ProviderHarness) => {
      const provider = harness.provider;
      if (!provider.capabilities.cancelHostedPayments) {
        context.skip();
        return undefined;
      }
      if (!provider.cancelHostedPayment) {
        throw new Error("capabilities.cancelHostedPayments is true but cancelHostedPayment is missing");
      }
      return (input: CancelHostedPaymentInput) => provider.cancelHostedPayment!(input);
    };
    const retrieve = (harness: ProviderHarness, pspReference: string) =>
      harness.provider.retrievePayment({ pspReference });

    it("closes an open unpaid attempt: canceled, then the PSP refuses to take payment on it", async (context) => {
      const harness = current();
      const cancel = cancelOf(context, harness);
      if (!cancel) return;
      const { pspReference } = await registered(harness);
      expect(await cancel(closing(pspReference))).toMatchObject({ pspReference, status: "canceled" });
      await expect(harness.pay(pspReference, "succeeded")).rejects.toBeDefined();
      const after = await retrieve(harness, pspReference);
      expect(CLOSED).toContain(after.status);
      expect(after.amountRefunded).toBe(0n);
    });

    it("reports the close by webhook as canceled or expired", async (context) => {
      const harness = current();
      const cancel = cancelOf(context, harness);
      if (!cancel) return;
      const { pspReference } = await registered(harness);
      await harness.webhooks();
      await cancel(closing(pspReference, { reason: "expired" }));
      const trail = statusTrail(await receivedEvents(harness), pspReference);
      expect(trail).toHaveLength(1);
      expect(CLOSED).toContain(trail[0]);
    });

    it("is idempotent: closing a closed attempt answers canceled again, with the same key or a new one", async (context) => {
      const harness = current();
      const cancel = cancelOf(context, harness);
      if (!cancel) return;
      const { pspReference } = await registered(harness);
      const first = closing(pspReference);
      expect((await cancel(first)).status).toBe("canceled");
      expect((await cancel({ ...first })).status).toBe("canceled");
      expect((await cancel(closing(pspReference, { reason: "expired" }))).status).toBe("canceled");
      expect(CLOSED).toContain((await retrieve(harness, pspReference)).status);
    });

    it("answers canceled for an attempt the PSP already closed as expired", async (context) => {
      const harness = current();
      const cancel = cancelOf(context, harness);
      if (!cancel) return;
      const { pspReference } = await registered(harness);
      await harness.expire(pspReference);
      expect(await cancel(closing(pspReference, { reason: "expired" }))).toMatchObject({
        pspReference,
        status: "canceled",
      });
    });

    it("closes a declined attempt that is still payable on its page", async (context) => {
      const harness = current();
      const cancel = cancelOf(context, harness);
      if (!cancel) return;
      const { pspReference } = await registered(harness);
      await harness.pay(pspReference, "declined");
      expect((await retrieve(harness, pspReference)).status).toBe("failed");
      expect(await cancel(closing(pspReference))).toMatchObject({ pspReference, status: "canceled" });
      await expect(harness.pay(pspReference, "succeeded")).rejects.toBeDefined();
      expect((await retrieve(harness, pspReference)).status).not.toBe("succeeded");
    });

    it("leaves a paid attempt alone: answers succeeded with the amount and currency captured", async (context) => {
      const harness = current();
      const cancel = cancelOf(context, harness);
      if (!cancel) return;
      const { pspReference } = await registered(harness, {
        amount: 3_200n,
        currency: "JPY",
        orders: [
          { paymentOrderId: unique("po"), sellerId: "S1", amount: 3_200n, description: "Matcha, 40 g" },
        ],
      });
      await harness.pay(pspReference, "succeeded");
      const answer = await cancel(closing(pspReference));
      expect(answer).toMatchObject({ pspReference, status: "succeeded", amount: 3_200n, currency: "JPY" });
      expect(await retrieve(harness, pspReference)).toMatchObject({
        status: "succeeded",
        amount: 3_200n,
        currency: "JPY",
      });
    });

    it("leaves a bank transfer in flight alone: answers processing, and the transfer still settles", async (context) => {
      const harness = current();
      const cancel = cancelOf(context, harness);
      if (!cancel) return;
      if (!harness.provider.capabilities.methods.includes("bank_transfer")) return context.skip();
      const { pspReference } = await registered(harness, { method: "bank_transfer" });
      await harness.pay(pspReference, "processing");
      expect(await cancel(closing(pspReference))).toMatchObject({ pspReference, status: "processing" });
      expect((await retrieve(harness, pspReference)).status).toBe("processing");
      await harness.settle(pspReference);
      expect(await retrieve(harness, pspReference)).toMatchObject({ status: "succeeded", amount: 12_345n });
    });

    it("rejects an unknown reference as fatal NOT_FOUND", async (context) => {
      const harness = current();
      const cancel = cancelOf(context, harness);
      if (!cancel) return;
      const sent = closing("no_such_payment_123");
      await expectPspError(cancel(sent), "NOT_FOUND", "fatal", { sent });
    });

    it("classifies an unreachable PSP as retryable with nothing closed; the retry with the same key closes it", async (context) => {
      const harness = current();
      const cancel = cancelOf(context, harness);
      if (!cancel) return;
      if (!harness.failNextCancel)
        throw new Error("the harness needs failNextCancel for cancelHostedPayments");
      const { pspReference } = await registered(harness);
      const sent = closing(pspReference);
      harness.failNextCancel();
      await expectPspError(cancel(sent), "PSP_UNAVAILABLE", "retryable", { sent });
      expect((await retrieve(harness, pspReference)).status).toBe("requires_payment");
      expect((await cancel(sent)).status).toBe("canceled");
    });
  });
}
