import { describe, expect, it } from "vitest";
import type { CreateHostedPaymentInput } from "../../ports/psp.js";
import { expectPspError, registered, registration } from "./fixtures.js";
import type { ProviderHarness } from "./harness.js";

/** `createHostedPayment`: the answer, idempotency by key, and input the PSP must refuse. */
export function registrationSuite(current: () => ProviderHarness, largeAmount: bigint): void {
  describe("registration", () => {
    it("returns a reference, an absolute hosted page URL and requires_payment", async () => {
      const harness = current();
      const input = registration(harness);
      const hosted = await harness.provider.createHostedPayment(input);
      expect(hosted.pspReference).toMatch(/\S/);
      expect(hosted.status).toBe("requires_payment");
      expect(["http:", "https:"]).toContain(new URL(hosted.redirectUrl).protocol);
      if (hosted.expiresAt !== undefined) expect(hosted.expiresAt).toEqual(input.expiresAt);
      expect(await harness.registrations()).toBe(1);
      const retrieved = await harness.provider.retrievePayment({ pspReference: hosted.pspReference });
      expect(retrieved).toMatchObject({
        pspReference: hosted.pspReference,
        paymentId: input.paymentId,
        status: "requires_payment",
        amount: 12_345n,
        currency: "USD",
        amountRefunded: 0n,
      });
    });

    it("returns the same payment for the same key and parameters, registering once", async () => {
      const harness = current();
      const input = registration(harness);
      const first = await harness.provider.createHostedPayment(input);
      const second = await harness.provider.createHostedPayment({
        ...input,
        metadata: { ...input.metadata },
      });
      expect(second.pspReference).toBe(first.pspReference);
      expect(second.redirectUrl).toBe(first.redirectUrl);
      expect(await harness.registrations()).toBe(1);
    });

    it("registers twice for two keys, even with the same parameters", async () => {
      const harness = current();
      const input = registration(harness);
      const first = await harness.provider.createHostedPayment(input);
      const second = await harness.provider.createHostedPayment({
        ...input,
        idempotencyKey: `${input.idempotencyKey}-2`,
      });
      expect(second.pspReference).not.toBe(first.pspReference);
      expect(await harness.registrations()).toBe(2);
    });

    it.each<[string, (input: CreateHostedPaymentInput) => CreateHostedPaymentInput]>([
      [
        "amount",
        (i) => ({
          ...i,
          amount: 12_346n,
          orders: [{ paymentOrderId: "o", sellerId: "S1", amount: 12_346n }],
        }),
      ],
      ["currency", (i) => ({ ...i, currency: "EUR" })],
      ["success URL", (i) => ({ ...i, successUrl: "https://shop.example/elsewhere" })],
    ])("rejects the same key with a different %s as fatal PSP_REQUEST_REJECTED", async (_field, change) => {
      const harness = current();
      const input = registration(harness);
      await harness.provider.createHostedPayment(input);
      const changed = change(input);
      await expectPspError(harness.provider.createHostedPayment(changed), "PSP_REQUEST_REJECTED", "fatal", {
        sent: changed,
      });
      expect(await harness.registrations()).toBe(1);
    });

    it.each([
      ["amount", "zero", { amount: 0n, orders: [{ paymentOrderId: "o", sellerId: "S1", amount: 0n }] }],
      ["amount", "negative", { amount: -5n, orders: [{ paymentOrderId: "o", sellerId: "S1", amount: -5n }] }],
      ["orders", "not summing to the amount", { amount: 12_000n }],
      ["currency", "lowercase usd", { currency: "usd" }],
      ["currency", "XTS, the testing code", { currency: "XTS" }],
    ])(
      "rejects an invalid %s (%s) as fatal PSP_REQUEST_REJECTED and registers nothing",
      async (param, _case, change) => {
        const harness = current();
        const sent = registration(harness, change);
        const attempt = harness.provider.createHostedPayment(sent);
        await expectPspError(attempt, "PSP_REQUEST_REJECTED", "fatal", { param, sent });
        expect(await harness.registrations()).toBe(0);
      },
    );

    it("keeps a large amount exact as bigint", async () => {
      const harness = current();
      const amount = largeAmount;
      const { pspReference } = await registered(harness, {
        amount,
        orders: [{ paymentOrderId: "o1", sellerId: "S1", amount }],
      });
      const retrieved = await harness.provider.retrievePayment({ pspReference });
      expect(retrieved.amount).toBe(amount);
    });
  });
}
