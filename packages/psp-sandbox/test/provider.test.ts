import { describe, expect, it } from "vitest";
import { sandboxProvider } from "../src/index.js";
import { registrationInput, SECRET, T0, testSandbox } from "./support/sandbox-harness.js";

describe("sandboxProvider options", () => {
  it("declares its capabilities", () => {
    const { sandbox } = testSandbox();
    expect(sandbox.id).toBe("sandbox");
    expect(sandbox.capabilities).toEqual({
      methods: ["card", "bank_transfer"],
      currencies: "any",
      refunds: true,
      partialRefunds: true,
      payouts: true,
      payoutReversals: true,
      settlementReports: true,
      cancelHostedPayments: true,
      disputes: true,
    });
  });

  it.each([
    ["baseUrl", "not a URL", { baseUrl: "not a url", webhookSecret: SECRET }],
    ["baseUrl", "no scheme", { baseUrl: "localhost:3000/sandbox", webhookSecret: SECRET }],
    ["baseUrl", "not http(s)", { baseUrl: "ftp://x.test/sandbox", webhookSecret: SECRET }],
    [
      "webhookUrl",
      "no scheme",
      { baseUrl: "http://x.test", webhookUrl: "localhost:3000/v1/webhooks/sandbox", webhookSecret: SECRET },
    ],
    ["webhookSecret", "empty", { baseUrl: "http://x.test", webhookSecret: "" }],
    [
      "webhookRetry",
      "no attempts",
      { baseUrl: "http://x.test", webhookSecret: SECRET, webhookRetry: { attempts: 0, baseMs: 1 } },
    ],
  ])("rejects a bad %s (%s)", (param, _why, options) => {
    expect(() => sandboxProvider(options)).toThrow(
      expect.objectContaining({ code: "VALIDATION_FAILED", param }),
    );
  });

  it("drops a trailing slash from baseUrl in page URLs", async () => {
    const { sandbox } = testSandbox({ baseUrl: "https://shop.example/psp/" });
    const hosted = await sandbox.createHostedPayment(registrationInput());
    expect(hosted.redirectUrl).toMatch(/^https:\/\/shop\.example\/psp\/pay\/sbx_pay_[0-9a-f]{24}$/);
  });
});

describe("createHostedPayment (sandbox specifics)", () => {
  it("replays the original answer for a known key, as Stripe does, whatever happened since", async () => {
    const { sandbox } = testSandbox();
    const input = registrationInput();
    const first = await sandbox.createHostedPayment(input);
    await sandbox.pay(first.pspReference);
    expect(await sandbox.createHostedPayment(input)).toEqual(first);
    expect(first).toEqual({
      pspReference: first.pspReference,
      redirectUrl: `http://sandbox.test/sandbox/pay/${first.pspReference}`,
      status: "requires_payment",
      expiresAt: new Date(T0.getTime() + 86_400_000),
    });
  });

  it("names Stripe's idempotency_error for a key reused with other parameters", async () => {
    const { sandbox } = testSandbox();
    const input = registrationInput();
    await sandbox.createHostedPayment(input);
    await expect(
      sandbox.createHostedPayment({ ...input, metadata: { cart: "other" } }),
    ).rejects.toMatchObject({
      code: "PSP_REQUEST_REJECTED",
      kind: "fatal",
      pspCode: "idempotency_error",
      param: "idempotencyKey",
    });
  });

  it.each([
    ["successUrl", { successUrl: "javascript:alert(1)" }],
    ["cancelUrl", { cancelUrl: "/relative" }],
    ["expiresAt", { expiresAt: T0 }],
    ["paymentId", { paymentId: "" }],
    ["idempotencyKey", { idempotencyKey: "" }],
    ["method", { method: "cash" as "card" }],
    ["orders", { orders: [] }],
    [
      "orders.1.amount",
      {
        orders: [
          { paymentOrderId: "a", sellerId: "S", amount: 12_345n },
          { paymentOrderId: "b", sellerId: "S", amount: 0n },
        ],
      },
    ],
    ["orders.0.paymentOrderId", { orders: [{ paymentOrderId: "", sellerId: "S", amount: 12_345n }] }],
  ])("rejects an invalid %s with parameter_invalid", async (param, change) => {
    const { sandbox } = testSandbox();
    await expect(sandbox.createHostedPayment(registrationInput(change))).rejects.toMatchObject({
      code: "PSP_REQUEST_REJECTED",
      pspCode: "parameter_invalid",
      param,
    });
    expect(sandbox.payments()).toEqual([]);
  });

  it("keeps core's currency error as the cause", async () => {
    const { sandbox } = testSandbox();
    const attempt = sandbox.createHostedPayment(registrationInput({ currency: "usd" }));
    await expect(attempt).rejects.toMatchObject({ param: "currency", cause: { code: "UNKNOWN_CURRENCY" } });
  });

  it("hands out read-only copies of its state", async () => {
    const { sandbox } = testSandbox();
    const { pspReference } = await sandbox.createHostedPayment(registrationInput());
    const copy = sandbox.payment(pspReference)!;
    expect(() => Object.assign(copy, { status: "succeeded" })).toThrow(TypeError);
    expect(sandbox.payment(pspReference)!.status).toBe("requires_payment");
    expect(sandbox.payment("sbx_pay_nope")).toBeUndefined();
  });
});
