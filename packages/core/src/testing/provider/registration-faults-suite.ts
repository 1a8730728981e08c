import { describe, expect, it } from "vitest";
import { expectPspError, registration } from "./fixtures.js";
import type { ProviderHarness } from "./harness.js";

/**
 * Failures on the way to the PSP, classified as the port says, and the recovery the payment
 * service relies on: a retry with the same idempotency key never registers a second payment.
 */
export function registrationFaultsSuite(current: () => ProviderHarness): void {
  describe("registration failures", () => {
    it("classifies a refusal before processing (503, 429) as retryable PSP_UNAVAILABLE with nothing registered; the retry registers once", async () => {
      const harness = current();
      const input = registration(harness);
      harness.failNextRegistration("unavailable");
      await expectPspError(harness.provider.createHostedPayment(input), "PSP_UNAVAILABLE", "retryable", {
        sent: input,
      });
      expect(await harness.registrations()).toBe(0);
      const retried = await harness.provider.createHostedPayment(input);
      expect(retried.status).toBe("requires_payment");
      expect(await harness.registrations()).toBe(1);
    });

    it("classifies a lost answer as indeterminate PSP_TIMEOUT; the retry with the same key finds that payment", async () => {
      const harness = current();
      const input = registration(harness);
      harness.failNextRegistration("timeout");
      await expectPspError(harness.provider.createHostedPayment(input), "PSP_TIMEOUT", "indeterminate", {
        sent: input,
      });
      // The PSP did register it: only the answer was lost.
      expect(await harness.registrations()).toBe(1);
      const retried = await harness.provider.createHostedPayment(input);
      expect(await harness.registrations()).toBe(1);
      const again = await harness.provider.createHostedPayment(input);
      expect(again.pspReference).toBe(retried.pspReference);
      const retrieved = await harness.provider.retrievePayment({ pspReference: retried.pspReference });
      expect(retrieved).toMatchObject({
        paymentId: input.paymentId,
        status: "requires_payment",
        amount: 12_345n,
      });
    });

    it("binds the key to the parameters of a registration whose answer was lost", async () => {
      const harness = current();
      const input = registration(harness);
      harness.failNextRegistration("timeout");
      await expectPspError(harness.provider.createHostedPayment(input), "PSP_TIMEOUT", "indeterminate", {
        sent: input,
      });
      const changed = { ...input, currency: "EUR" };
      await expectPspError(harness.provider.createHostedPayment(changed), "PSP_REQUEST_REJECTED", "fatal", {
        sent: changed,
      });
      expect(await harness.registrations()).toBe(1);
    });
  });
}
