import { nextAction } from "../../domain/next-action.js";
import type { Payment } from "../../domain/payment.js";
import type { PaymentOrder } from "../../domain/payment-order.js";
import type { Refund } from "../../domain/refund.js";
import type { PaymentDetails } from "../../results.js";

/** A payment with its orders, its refunds and what the buyer must do next (the SDK's `PaymentDetails`). */
export const withDetails = (
  payment: Payment,
  orders: readonly PaymentOrder[],
  refunds: readonly Refund[],
): PaymentDetails => ({ ...payment, orders, refunds, nextAction: nextAction(payment) });
