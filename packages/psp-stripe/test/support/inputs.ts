import type { CreateHostedPaymentInput } from "@settlekit/core";
import { T0 } from "./harness.js";

let n = 0;

/** A USD 123.45 card registration for sellers S1 and S2, with fresh ids and key. */
export function registrationInput(
  overrides: Partial<CreateHostedPaymentInput> = {},
): CreateHostedPaymentInput {
  n++;
  return {
    paymentId: `pay_${n}`,
    amount: 12_345n,
    currency: "USD",
    method: "card",
    orders: [
      { paymentOrderId: `po_${n}_1`, sellerId: "S1", amount: 10_000n },
      { paymentOrderId: `po_${n}_2`, sellerId: "S2", amount: 2_345n },
    ],
    successUrl: "https://shop.example/done",
    cancelUrl: "https://shop.example/cart",
    createdAt: T0,
    expiresAt: new Date(T0.getTime() + 3_600_000),
    buyerId: "B1",
    metadata: {},
    idempotencyKey: `reg_${n}`,
    ...overrides,
  };
}
