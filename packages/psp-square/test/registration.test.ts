import { afterEach, describe, expect, it } from "vitest";
import { type SquareWorld, squareWorld } from "./support/harness.js";
import { registrationInput } from "./support/inputs.js";

describe("createHostedPayment: a Square payment link", () => {
  let world: SquareWorld | undefined;
  afterEach(async () => {
    await world?.fake.close();
    world = undefined;
  });

  it("sends one line item per payment order, the payment id as reference, the success URL with payment_id and the key", async () => {
    world = await squareWorld();
    const hosted = await world.provider.createHostedPayment(registrationInput());
    const [request] = world.fake.requests;
    expect(request).toMatchObject({
      method: "POST",
      path: "/v2/online-checkout/payment-links",
      squareVersion: "2026-09-16",
      authorization: "Bearer EAAA_fake_access_token",
    });
    expect(request!.body).toEqual({
      idempotency_key: "reg_1",
      order: {
        location_id: "L_FAKE_US",
        reference_id: "pay_1",
        metadata: { settlekit_payment_id: "pay_1" },
        line_items: [
          {
            name: "Teapot",
            quantity: "1",
            base_price_money: { amount: 10_000n, currency: "USD" },
            metadata: { settlekit_payment_order_id: "po_1", settlekit_seller_id: "S1" },
          },
          {
            name: "Tea, 250 g",
            quantity: "1",
            base_price_money: { amount: 2_345n, currency: "USD" },
            metadata: { settlekit_payment_order_id: "po_2", settlekit_seller_id: "S2" },
          },
        ],
      },
      checkout_options: {
        redirect_url: "https://shop.example/payment/success?from=cart&payment_id=pay_1#top",
        allow_tipping: false,
      },
    });
    const link = [...world.fake.links.values()][0]!;
    expect(hosted).toEqual({
      pspReference: link.order_id,
      redirectUrl: link.url,
      status: "requires_payment",
    });
    expect(world.fake.orders.get(hosted.pspReference)).toMatchObject({
      reference_id: "pay_1",
      total_money: { amount: 12_345n, currency: "USD" },
      state: "OPEN",
    });
  });

  it("names a line without description by its payment order", async () => {
    world = await squareWorld();
    await world.provider.createHostedPayment(
      registrationInput({ orders: [{ paymentOrderId: "po_9", sellerId: "S1", amount: 12_345n }] }),
    );
    expect(world.fake.requests[0]!.body!.order.line_items[0].name).toBe("Order po_9");
  });

  it.each([
    ["EUR at a USD location", { currency: "EUR" }, "currency", /location L_FAKE_US in USD only/],
    ["a bank transfer outside USD", { method: "bank_transfer" as const, currency: "GBP" }, "currency", /GBP/],
    [
      "a reference longer than Square's 40 characters",
      { paymentId: `pay_${"x".repeat(40)}` },
      "paymentId",
      /reference_id/,
    ],
  ])("refuses %s before any call to Square", async (_case, change, param, message) => {
    world = await squareWorld();
    const attempt = world.provider.createHostedPayment(registrationInput(change));
    await expect(attempt).rejects.toMatchObject({ code: "PSP_REQUEST_REJECTED", kind: "fatal", param });
    await expect(attempt).rejects.toThrow(message);
    expect(world.fake.requests).toEqual([]);
  });

  it("refuses a bank transfer at a non-USD location before any call", async () => {
    world = await squareWorld({ currency: "GBP" });
    expect(world.provider.capabilities.methods).toEqual(["card"]);
    await expect(
      world.provider.createHostedPayment(registrationInput({ currency: "GBP", method: "bank_transfer" })),
    ).rejects.toMatchObject({ code: "PSP_REQUEST_REJECTED", param: "method" });
    expect(world.fake.requests).toEqual([]);
  });

  it("declares its capabilities honestly: no payouts to sellers, no closing of links, the location's currency only", async () => {
    world = await squareWorld();
    expect(world.provider.capabilities).toEqual({
      methods: ["card", "bank_transfer"],
      currencies: ["USD"],
      refunds: true,
      partialRefunds: true,
      disputes: false,
      payouts: false,
      settlementReports: true,
      cancelHostedPayments: false,
    });
    expect("payout" in world.provider).toBe(false);
    expect("cancelHostedPayment" in world.provider).toBe(false);
  });

  it("replays a retried key with the same link and refuses the key with another amount (IDEMPOTENCY_KEY_REUSED)", async () => {
    world = await squareWorld();
    const first = await world.provider.createHostedPayment(registrationInput());
    const again = await world.provider.createHostedPayment(registrationInput());
    expect(again).toEqual(first);
    const changed = registrationInput({
      amount: 12_346n,
      orders: [{ paymentOrderId: "po_1", sellerId: "S1", amount: 12_346n }],
    });
    await expect(world.provider.createHostedPayment(changed)).rejects.toMatchObject({
      code: "PSP_REQUEST_REJECTED",
      kind: "fatal",
      pspCode: "IDEMPOTENCY_KEY_REUSED",
      param: "idempotency_key",
    });
    expect(world.fake.linkCount()).toBe(1);
  });
});
