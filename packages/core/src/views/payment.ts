import type { Payment } from "../domain/payment.js";
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

export function nextAction(payment: Payment): NextAction {
  switch (payment.status) {
    case "created":
      return { type: "wait", message: "We are setting up your payment with the payment provider." };
    case "requires_payment":
      return payment.redirectUrl
        ? { type: "redirect_to_psp", url: payment.redirectUrl }
        : { type: "wait", message: "We are setting up your payment with the payment provider." };
    case "processing":
      return payment.method === "bank_transfer"
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
        message: `The payment failed (${payment.failureReason ?? "unknown reason"}).`,
      };
    default:
      return { type: "none" };
  }
}

/** A payment without its orders, for lists (and the first fields of its full view). */
export function paymentSummary(payment: Payment): JsonObject {
  return {
    id: payment.id,
    object: "payment",
    status: payment.status,
    buyer_id: payment.buyerId,
    currency: payment.currency,
    amount: payment.amount.toString(),
    refunded_amount: payment.refundedAmount.toString(),
    method: payment.method,
    psp: payment.pspId,
    failure_reason: payment.failureReason ?? null,
    created_at: payment.createdAt.toISOString(),
    updated_at: payment.updatedAt.toISOString(),
  };
}

/**
 * The JSON shape of a payment for API responses and stored idempotent responses. Money is
 * always a decimal string of minor units (never a JSON number).
 */
export function paymentView(
  payment: Payment,
  orders: readonly PaymentOrder[],
  refunds: readonly Refund[] = [],
): JsonObject {
  return {
    ...paymentSummary(payment),
    redirect_url: payment.redirectUrl ?? null,
    next_action: { ...nextAction(payment) },
    metadata: { ...payment.metadata },
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
      payment.reviewReason === undefined
        ? null
        : {
            reason: payment.reviewReason,
            reported_amount: payment.reportedAmount?.toString() ?? null,
            reported_currency: payment.reportedCurrency ?? null,
          },
    expires_at: payment.expiresAt?.toISOString() ?? null,
    estimated_delivery_at: payment.estimatedDeliveryAt?.toISOString() ?? null,
  };
}
