import { describe, expect, it } from "vitest";
import { acceptsCurrency, expectPspError, registered } from "./fixtures.js";
import type { ProviderHarness } from "./harness.js";

type FailureCodes = { readonly declined: string; readonly insufficientFunds: string };

/** `retrievePayment` (what the pending sweeper polls) follows the payment through every state. */
export function retrieveSuite(current: () => ProviderHarness, codes: FailureCodes): void {
  describe("retrievePayment", () => {
    const retrieve = (harness: ProviderHarness, pspReference: string) =>
      harness.provider.retrievePayment({ pspReference });

    it("follows requires_payment → failed (with the code) → succeeded on a retry", async () => {
      const harness = current();
      const { input, pspReference } = await registered(harness);
      expect((await retrieve(harness, pspReference)).status).toBe("requires_payment");
      await harness.pay(pspReference, "insufficient_funds");
      expect(await retrieve(harness, pspReference)).toMatchObject({
        status: "failed",
        failureCode: codes.insufficientFunds,
        amountRefunded: 0n,
      });
      await harness.pay(pspReference, "declined");
      expect((await retrieve(harness, pspReference)).failureCode).toBe(codes.declined);
      await harness.pay(pspReference, "succeeded");
      const paid = await retrieve(harness, pspReference);
      expect(paid).toMatchObject({
        pspReference,
        paymentId: input.paymentId,
        status: "succeeded",
        amount: 12_345n,
        currency: "USD",
        amountRefunded: 0n,
      });
      expect(paid.failureCode).toBeUndefined();
      expect(paid.updatedAt).toBeInstanceOf(Date);
    });

    it("follows processing → succeeded when the money arrives", async () => {
      const harness = current();
      const { pspReference } = await registered(harness);
      await harness.pay(pspReference, "processing");
      expect((await retrieve(harness, pspReference)).status).toBe("processing");
      await harness.settle(pspReference);
      expect((await retrieve(harness, pspReference)).status).toBe("succeeded");
    });

    it("reports the amount and currency the PSP holds once succeeded (JPY, after processing)", async (context) => {
      // What the sweeper checks against the payment before it applies a polled success.
      const harness = current();
      if (!acceptsCurrency(harness, "JPY")) return context.skip();
      const { pspReference } = await registered(harness, {
        amount: 3_200n,
        currency: "JPY",
        orders: [{ paymentOrderId: "yen_o1", sellerId: "S1", amount: 3_200n, description: "Matcha, 40 g" }],
      });
      await harness.pay(pspReference, "processing");
      await harness.settle(pspReference);
      expect(await retrieve(harness, pspReference)).toMatchObject({
        status: "succeeded",
        amount: 3_200n,
        currency: "JPY",
      });
    });

    it("shows a bank transfer as processing, then succeeded", async (context) => {
      const harness = current();
      if (!harness.provider.capabilities.methods.includes("bank_transfer")) return context.skip();
      const { pspReference } = await registered(harness, { method: "bank_transfer" });
      await harness.pay(pspReference, "processing");
      expect(await retrieve(harness, pspReference)).toMatchObject({ status: "processing" });
      await harness.settle(pspReference);
      expect(await retrieve(harness, pspReference)).toMatchObject({ status: "succeeded", amount: 12_345n });
    });

    it("shows an expired payment as expired", async () => {
      const harness = current();
      const { pspReference } = await registered(harness);
      await harness.expire(pspReference);
      expect((await retrieve(harness, pspReference)).status).toBe("expired");
    });

    it("rejects an unknown reference as fatal NOT_FOUND", async () => {
      const harness = current();
      await expectPspError(retrieve(harness, "no_such_payment_123"), "NOT_FOUND", "fatal", {
        sent: {
          pspReference: "no_such_payment_123",
        },
      });
    });
  });
}
