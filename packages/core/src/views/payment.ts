import type { Payment } from "../domain/payment.js";
import type { PaymentOrder } from "../domain/payment-order.js";
import type { JsonObject } from "../ports/json.js";
import type { PaymentDetails } from "../results.js";
import { paymentOrderEventLine, paymentOrderLine } from "./payment-order.js";
import { refundLine } from "./refund.js";
import { EVENT_SCHEMA_VERSION } from "./schema-version.js";

/** The JSON of a payment in lists (`GET /operator/payments`): without its orders. */
export interface PaymentSummaryJson extends JsonObject {
  id: string;
  object: "payment";
  status: string;
  buyer_id: string;
  currency: string;
  amount: string;
  refunded_amount: string;
  method: string;
  psp: string;
  failure_reason: string | null;
  created_at: string;
  updated_at: string;
}

/** A payment without its orders, for lists (and the first fields of its full view). */
export function paymentSummaryView(payment: Payment): PaymentSummaryJson {
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
 * The JSON of a payment with its orders, refunds and next action: the REST API's answer and the
 * response stored for an idempotent replay. Money is always a decimal string of minor units
 * (never a JSON number).
 */
export function paymentView(payment: PaymentDetails): JsonObject {
  return {
    ...paymentSummaryView(payment),
    redirect_url: payment.redirectUrl ?? null,
    next_action: { ...payment.nextAction },
    metadata: { ...payment.metadata },
    orders: payment.orders.map(paymentOrderLine),
    refunds: payment.refunds.map(refundLine),
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

/** The payload of a `payment.*` outbox event: the payment's state, what the PSP reported, its orders. */
export function paymentEventPayload(payment: Payment, orders: readonly PaymentOrder[]): JsonObject {
  return {
    schema_version: EVENT_SCHEMA_VERSION,
    payment_id: payment.id,
    buyer_id: payment.buyerId,
    status: payment.status,
    amount: payment.amount.toString(),
    currency: payment.currency,
    method: payment.method,
    psp: payment.pspId,
    psp_reference: payment.pspReference ?? null,
    failure_reason: payment.failureReason ?? null,
    ...(payment.reviewReason === undefined
      ? {}
      : {
          review: {
            reason: payment.reviewReason,
            expected_amount: payment.amount.toString(),
            expected_currency: payment.currency,
            reported_amount: payment.reportedAmount?.toString() ?? null,
            reported_currency: payment.reportedCurrency ?? null,
          },
        }),
    orders: orders.map(paymentOrderEventLine),
  };
}
