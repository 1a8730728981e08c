import type { CreateHostedPaymentInput } from "@settlekit/core";
import { T0 } from "./harness.js";

/** A two-seller USD 123.45 card payment (100.00 + 23.45). */
export function registrationInput(
  overrides: Partial<CreateHostedPaymentInput> = {},
): CreateHostedPaymentInput {
  return {
    paymentId: "pay_1",
    amount: 12_345n,
    currency: "USD",
    method: "card",
    orders: [
      { paymentOrderId: "po_1", sellerId: "S1", amount: 10_000n, description: "Teapot" },
      { paymentOrderId: "po_2", sellerId: "S2", amount: 2_345n, description: "Tea, 250 g" },
    ],
    successUrl: "https://shop.example/payment/success?from=cart#top",
    cancelUrl: "https://shop.example/payment/cancel",
    createdAt: T0,
    buyerId: "B1",
    metadata: { cart: "c-1" },
    idempotencyKey: "reg_1",
    ...overrides,
  };
}
