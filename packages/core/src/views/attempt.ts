import type { Payment } from "../domain/payment.js";
import type { PaymentAttempt } from "../domain/payment-attempt.js";
import type { JsonObject } from "../ports/json.js";
import { EVENT_SCHEMA_VERSION } from "./schema-version.js";

/** A PSP attempt of a payment as the operator API shows it. */
export const paymentAttemptView = (a: PaymentAttempt): JsonObject => ({
  object: "payment_attempt",
  attempt: a.attempt,
  psp: a.pspId,
  psp_reference: a.pspReference,
  amount: a.amount.toString(),
  currency: a.currency,
  status: a.status,
  closed_at: a.closedAt?.toISOString() ?? null,
  captured_amount: a.capturedAmount?.toString() ?? null,
  captured_currency: a.capturedCurrency ?? null,
  unowned_capture: a.unownedReason
    ? {
        reason: a.unownedReason,
        refund_status: a.captureRefundStatus ?? null,
        refund_reference: a.captureRefundReference ?? null,
      }
    : null,
  created_at: a.createdAt.toISOString(),
  updated_at: a.updatedAt.toISOString(),
});

/** The payload of the `payment.capture_*` events: a capture no payment order owns, and its automatic refund. */
export function unownedCapturePayload(payment: Payment, attempt: PaymentAttempt): JsonObject {
  return {
    schema_version: EVENT_SCHEMA_VERSION,
    payment_id: payment.id,
    psp: attempt.pspId,
    psp_reference: attempt.pspReference,
    attempt: attempt.attempt,
    amount: (attempt.capturedAmount ?? attempt.amount).toString(),
    currency: attempt.capturedCurrency ?? attempt.currency,
    reason: attempt.unownedReason ?? null,
    refund_status: attempt.captureRefundStatus ?? null,
    refund_reference: attempt.captureRefundReference ?? null,
  };
}
