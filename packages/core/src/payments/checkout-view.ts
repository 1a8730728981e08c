import type { Checkout } from "../domain/checkout.js";
import type { PaymentOrder } from "../domain/payment-order.js";
import type { Refund } from "../domain/refund.js";
import type { JsonObject } from "../ports/json.js";

/**
 * What the buyer's status page needs to say next: pay on the PSP's page, wait for the bank
 * transfer, try again, or nothing.
 */
export type NextAction =
  | { readonly type: "redirect_to_psp"; readonly url: string }
  | { readonly type: "wait"; readonly message: string }
  | { readonly type: "retry_payment"; readonly message: string }
  | { readonly type: "none" };

export function nextAction(checkout: Checkout): NextAction {
  switch (checkout.status) {
    case "created":
      return { type: "wait", message: "We are setting up your payment with the payment provider." };
    case "requires_payment":
      return checkout.redirectUrl
        ? { type: "redirect_to_psp", url: checkout.redirectUrl }
        : { type: "wait", message: "We are setting up your payment with the payment provider." };
    case "processing":
      return checkout.method === "bank_transfer"
        ? { type: "wait", message: "Waiting for your bank transfer to arrive; this can take a few days." }
        : { type: "wait", message: "Your payment is being confirmed by the payment provider." };
    case "requires_review":
      // The buyer is told the payment is being checked, not why: the details are the operator's.
      return {
        type: "wait",
        message:
          "We are checking your payment with the payment provider. We will let you know once it is confirmed; there is nothing you need to do.",
      };
    case "failed":
      return {
        type: "retry_payment",
        message: `The payment failed (${checkout.failureReason ?? "unknown reason"}).`,
      };
    default:
      return { type: "none" };
  }
}

/** A checkout without its orders, for lists (and the first fields of its full view). */
export function checkoutSummary(checkout: Checkout): JsonObject {
  return {
    id: checkout.id,
    object: "checkout",
    status: checkout.status,
    buyer_id: checkout.buyerId,
    currency: checkout.currency,
    amount: checkout.amount.toString(),
    refunded_amount: checkout.refundedAmount.toString(),
    method: checkout.method,
    psp: checkout.pspId,
    failure_reason: checkout.failureReason ?? null,
    created_at: checkout.createdAt.toISOString(),
    updated_at: checkout.updatedAt.toISOString(),
  };
}

/**
 * The JSON shape of a checkout for API responses and stored idempotent responses. Money is
 * always a decimal string of minor units (never a JSON number).
 */
export function checkoutView(
  checkout: Checkout,
  orders: readonly PaymentOrder[],
  refunds: readonly Refund[] = [],
): JsonObject {
  return {
    ...checkoutSummary(checkout),
    redirect_url: checkout.redirectUrl ?? null,
    next_action: { ...nextAction(checkout) },
    metadata: { ...checkout.metadata },
    orders: orders.map((o) => ({
      id: o.id,
      seller_id: o.sellerId,
      amount: o.amount.toString(),
      description: o.description ?? null,
      status: o.status,
      refund_status: o.refundStatus,
      refunded_amount: o.refundedAmount.toString(),
      failure_reason: o.failureReason ?? null,
    })),
    refunds: refunds.map((r) => ({
      id: r.id,
      payment_order_id: r.paymentOrderId,
      amount: r.amount.toString(),
      status: r.status,
      failure_reason: r.failureReason ?? null,
      origin: r.origin ?? "settlekit",
    })),
    review:
      checkout.reviewReason === undefined
        ? null
        : {
            reason: checkout.reviewReason,
            reported_amount: checkout.reportedAmount?.toString() ?? null,
            reported_currency: checkout.reportedCurrency ?? null,
          },
    expires_at: checkout.expiresAt?.toISOString() ?? null,
    estimated_delivery_at: checkout.estimatedDeliveryAt?.toISOString() ?? null,
  };
}
