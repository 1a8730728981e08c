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
  it("reports a dashboard refund with no settlekit refund id, and a settlekit refund with its id", async () => {
    const { sandbox, pspReference } = await paid();
    await sandbox.refund(input(pspReference));
    const dashboard = await sandbox.refundFromDashboard(pspReference, 2_000n);
    expect(dashboard).toMatchObject({ pspReference, amount: 2_000n, status: "succeeded" });
    expect(dashboard.refundId).toBeUndefined();
    const events = await Promise.all(
      sandbox
        .events()
        .filter((e) => e.type === "refund.succeeded")
        .map(async (e) => (await sandbox.parseWebhook({ rawBody: e.rawBody, headers: e.headers }))[0]),
    );
    expect(events).toEqual([
      expect.objectContaining({ kind: "refund", pspReference, refundId: "rf_1", amount: 1_000n }),
      expect.objectContaining({ kind: "refund", pspReference, amount: 2_000n }),
    ]);
    expect(events[1]).not.toHaveProperty("refundId");
    expect(JSON.parse(sandbox.events().at(-1)!.rawBody).data.refund.refund_id).toBeNull();
    // The rest by default; then nothing is left, as for `refund`.
    expect((await sandbox.refundFromDashboard(pspReference)).amount).toBe(12_345n - 3_000n);
    await expect(sandbox.refundFromDashboard(pspReference, 1n)).rejects.toMatchObject({
      code: "REFUND_EXCEEDS_CAPTURED",
      pspCode: "amount_too_large",
    });
  });

  it("holds a dashboard refund pending until the held refunds settle", async () => {
    const { sandbox, pspReference } = await paid();
    const held = await sandbox.refundFromDashboard(pspReference, 500n, { hold: true });
    expect(held.status).toBe("pending");
    expect(sandbox.events().filter((e) => e.type.startsWith("refund."))).toEqual([]);
    expect((await sandbox.retrievePayment({ pspReference })).amountRefunded).toBe(500n);
    sandbox.faults.settleHeldRefunds("succeeded");
    expect(sandbox.events().map((e) => e.type)).toContain("refund.succeeded");
    expect(sandbox.refunds()[0]).toMatchObject({ status: "succeeded" });
  });

  it("refuses a dashboard refund of an unpaid payment", async () => {
    const { sandbox } = testSandbox();
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    await expect(sandbox.refundFromDashboard(pspReference, 1n)).rejects.toMatchObject({
      pspCode: "charge_not_refundable",
    });
  });
});
