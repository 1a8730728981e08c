import type { CreateHostedPaymentInput } from "@settlekit/core";
import { afterEach, describe, expect, it } from "vitest";
import type { StripeWorld } from "./support/harness.js";
import { stripeWorld, T0 } from "./support/harness.js";

const HOUR = 3_600_000;

const input = (overrides: Partial<CreateHostedPaymentInput> = {}): CreateHostedPaymentInput => ({
  paymentId: "pay_1",
  amount: 12_345n,
  currency: "USD",
  method: "card",
  orders: [
    { paymentOrderId: "po_1", sellerId: "S1", amount: 10_000n, description: "Teapot" },
    { paymentOrderId: "po_2", sellerId: "S2", amount: 2_345n },
  ],
  successUrl: "https://shop.example/done",
  cancelUrl: "https://shop.example/cart",
  createdAt: T0,
  expiresAt: new Date(T0.getTime() + 2 * HOUR),
  buyerId: "B1",
  metadata: { cart: "c-1" },
  idempotencyKey: "pay_1:register:1",
  ...overrides,
});

describe("createHostedPayment: the Checkout Session request", () => {
  let world: StripeWorld;
  afterEach(async () => world?.fake.close());

  const posted = () =>
    world.fake.requests.filter((r) => r.method === "POST" && r.path === "/v1/checkout/sessions");

  it("sends one line item per order, the payment's ids, its deadline, the key and Stripe's API version", async () => {
    world = await stripeWorld();
    const hosted = await world.provider.createHostedPayment(input());
    const [request] = posted();
    expect(request).toMatchObject({ stripeVersion: "2026-10-28.endive", idempotencyKey: "pay_1:register:1" });
    expect(request!.form).toEqual({
      mode: "payment",
      line_items: [
        {
          quantity: "1",
          price_data: {
            currency: "usd",
            unit_amount: "10000",
            product_data: {
              name: "Teapot",
              metadata: { settlekit_payment_order_id: "po_1", settlekit_seller_id: "S1" },
            },
          },
        },
        {
          quantity: "1",
          price_data: {
            currency: "usd",
            unit_amount: "2345",
            product_data: {
              name: "Order po_2",
              metadata: { settlekit_payment_order_id: "po_2", settlekit_seller_id: "S2" },
            },
          },
        },
      ],
      success_url: "https://shop.example/done?payment_id=pay_1",
      cancel_url: "https://shop.example/cart",
      client_reference_id: "pay_1",
      metadata: { cart: "c-1", settlekit_payment_id: "pay_1" },
      payment_intent_data: { metadata: { settlekit_payment_id: "pay_1" }, transfer_group: "pay_1" },
      expires_at: String((T0.getTime() + 2 * HOUR) / 1000),
      allowed_payment_method_types: ["card"],
    });
    expect(hosted).toEqual({
      pspReference: expect.stringMatching(/^cs_test_/),
      redirectUrl: `${world.fake.origin}/c/pay/${hosted.pspReference}`,
      status: "requires_payment",
      expiresAt: new Date(T0.getTime() + 2 * HOUR),
    });
  });

  it.each([
    ["USD", undefined, ["customer_balance", "us_bank_account"], { type: "us_bank_transfer" }],
    ["GBP", undefined, ["customer_balance"], { type: "gb_bank_transfer" }],
    ["JPY", undefined, ["customer_balance"], { type: "jp_bank_transfer" }],
    [
      "EUR",
      "NL",
      ["customer_balance", "sepa_debit"],
      { type: "eu_bank_transfer", eu_bank_transfer: { country: "NL" } },
    ],
  ])(
    "offers %s bank payments as Stripe's bank transfer (EU country %s) and debit",
    async (currency, country, types, transfer) => {
      world = await stripeWorld(country ? { euBankTransferCountry: country } : {});
      const amount = 12_300n; // whole yen too
      await world.provider.createHostedPayment(
        input({
          currency,
          amount,
          method: "bank_transfer",
          orders: [{ paymentOrderId: "po", sellerId: "S1", amount }],
        }),
      );
      const { form } = posted()[0]!;
      expect(form.allowed_payment_method_types).toEqual(types);
      expect(form.payment_method_options).toEqual({
        customer_balance: { funding_type: "bank_transfer", bank_transfer: transfer },
      });
      expect(form.customer_creation).toBe("always");
      expect(form.payment_method_types).toBeUndefined();
    },
  );

  it("offers EUR bank payments as SEPA Direct Debit only without an EU bank transfer country", async () => {
    world = await stripeWorld();
    await world.provider.createHostedPayment(input({ currency: "EUR", method: "bank_transfer" }));
    const { form } = posted()[0]!;
    expect(form.allowed_payment_method_types).toEqual(["sepa_debit"]);
    expect(form.payment_method_options).toBeUndefined();
  });

  it("refuses a bank payment in a currency Stripe has no bank method for, before calling Stripe", async () => {
    world = await stripeWorld();
    await expect(
      world.provider.createHostedPayment(input({ currency: "CHF", method: "bank_transfer" })),
    ).rejects.toMatchObject({
      code: "PSP_REQUEST_REJECTED",
      kind: "fatal",
      param: "method",
    });
    expect(world.fake.requests).toEqual([]);
  });

  it.each([
    ["10 minutes", 10 * 60_000, 31 * 60_000],
    ["30 hours", 30 * HOUR, 24 * HOUR - 60_000],
    ["none", undefined, 24 * HOUR - 60_000],
  ])("keeps a deadline of %s inside Stripe's 30 min – 24 h window", async (_label, wanted, sent) => {
    world = await stripeWorld();
    const hosted = await world.provider.createHostedPayment(
      input({ expiresAt: wanted === undefined ? undefined : new Date(T0.getTime() + wanted) }),
    );
    expect(posted()[0]!.form.expires_at).toBe(String((T0.getTime() + sent) / 1000));
    expect(hosted.expiresAt).toEqual(new Date(T0.getTime() + sent));
  });

  it("refuses a deadline already past", async () => {
    world = await stripeWorld();
    await expect(world.provider.createHostedPayment(input({ expiresAt: T0 }))).rejects.toMatchObject({
      code: "PSP_REQUEST_REJECTED",
      param: "expiresAt",
    });
    expect(world.fake.requests).toEqual([]);
  });

  it.each([
    ["JPY", 1_000n, "1000"],
    ["KWD", 1_230n, "1230"],
    ["ISK", 5_000n, "500000"],
    ["MGA", 12_300n, "123"],
  ])("sends %s %s minor units as Stripe amount %s", async (currency, amount, sent) => {
    world = await stripeWorld();
    const { pspReference } = await world.provider.createHostedPayment(
      input({ currency, amount, orders: [{ paymentOrderId: "po", sellerId: "S1", amount }] }),
    );
    const lineItems = posted()[0]!.form.line_items as { price_data: { unit_amount: string } }[];
    expect(lineItems[0]!.price_data.unit_amount).toBe(sent);
    // …and back: the retrieved amount is in ISO minor units again.
    expect((await world.provider.retrievePayment({ pspReference })).amount).toBe(amount);
  });

  it.each([
    ["KWD", 1_235n, "last digit"],
    ["MGA", 12_345n, "zero-decimal"],
    ["USD", 2n ** 60n, "too large"],
  ])("refuses %s %s (%s) before calling Stripe", async (currency, amount, message) => {
    world = await stripeWorld();
    const attempt = world.provider.createHostedPayment(
      input({ currency, amount, orders: [{ paymentOrderId: "po", sellerId: "S1", amount }] }),
    );
    await expect(attempt).rejects.toMatchObject({
      code: "PSP_REQUEST_REJECTED",
      kind: "fatal",
      param: "orders.0.amount",
    });
    await expect(attempt).rejects.toThrow(message);
    expect(world.fake.requests).toEqual([]);
  });

  it("passes Stripe's own refusal on as fatal with its code and parameter (amount over Stripe's limit)", async () => {
    world = await stripeWorld();
    const amount = 100_000_000n;
    const attempt = world.provider.createHostedPayment(
      input({ amount, orders: [{ paymentOrderId: "po", sellerId: "S1", amount }] }),
    );
    await expect(attempt).rejects.toMatchObject({
      code: "PSP_REQUEST_REJECTED",
      kind: "fatal",
      pspCode: "amount_too_large",
      param: "line_items[0][price_data][unit_amount]",
    });
    expect(world.fake.all("checkout.session")).toEqual([]);
  });
});
