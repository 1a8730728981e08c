import { describe, expect, it } from "vitest";
import { registrationInput, testSandbox } from "./support/sandbox-harness.js";

describe("refund (sandbox specifics)", () => {
  async function paid() {
    const created = testSandbox();
    const { pspReference } = await created.sandbox.createHostedPayment(registrationInput());
    await created.sandbox.pay(pspReference);
    return { ...created, pspReference };
  }
  const input = (pspReference: string, overrides = {}) => ({
    pspReference,
    refundId: "rf_1",
    amount: 1_000n,
    currency: "USD",
    idempotencyKey: "key_1",
    ...overrides,
  });

  it("treats the same settlekit refund id under a new key as already refunded", async () => {
    const { sandbox, pspReference } = await paid();
    const first = await sandbox.refund(input(pspReference));
    expect(first).toEqual({
      refundReference: expect.stringMatching(/^sbx_re_[0-9a-f]{24}$/),
      status: "succeeded",
    });
    expect(await sandbox.refund(input(pspReference, { idempotencyKey: "key_2" }))).toEqual(first);
    expect(sandbox.refunds()).toHaveLength(1);
    expect((await sandbox.retrievePayment({ pspReference })).amountRefunded).toBe(1_000n);
    await expect(
      sandbox.refund(input(pspReference, { idempotencyKey: "key_3", amount: 5n })),
    ).rejects.toMatchObject({
      pspCode: "idempotency_error",
      param: "refundId",
    });
  });

  it.each([
    ["amount_too_large", "REFUND_EXCEEDS_CAPTURED", { amount: 12_346n }],
    ["currency_mismatch", "PSP_REQUEST_REJECTED", { currency: "EUR" }],
    ["parameter_invalid", "PSP_REQUEST_REJECTED", { amount: 0n }],
  ])("names %s", async (pspCode, code, change) => {
    const { sandbox, pspReference } = await paid();
    await expect(sandbox.refund(input(pspReference, change))).rejects.toMatchObject({
      code,
      kind: "fatal",
      pspCode,
    });
    expect(sandbox.refunds()).toEqual([]);
  });

  it("names charge_not_refundable for an unpaid payment", async () => {
    const { sandbox } = testSandbox();
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    await expect(sandbox.refund(input(pspReference))).rejects.toMatchObject({
      pspCode: "charge_not_refundable",
    });
  });
});
