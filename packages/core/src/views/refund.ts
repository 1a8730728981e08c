import type { Refund } from "../domain/refund.js";
import type { JsonObject } from "../ports/json.js";

/** The JSON of a refund (`object: "refund"`). */
export interface RefundJson extends JsonObject {
  id: string;
  object: "refund";
  payment_id: string;
  payment_order_id: string;
  amount: string;
  currency: string;
  status: string;
  failure_reason: string | null;
  origin: string;
  psp_refund_reference: string | null;
  created_at: string;
}

/** The one projection of a refund: API responses and the `refund.*` event payloads. */
export function refundView(refund: Refund): RefundJson {
  return {
    id: refund.id,
    object: "refund",
    payment_id: refund.paymentId,
    payment_order_id: refund.paymentOrderId,
    amount: refund.amount.toString(),
    currency: refund.currency,
    status: refund.status,
    failure_reason: refund.failureReason ?? null,
    origin: refund.origin ?? "settlekit",
    psp_refund_reference: refund.pspRefundReference ?? null,
    created_at: refund.createdAt.toISOString(),
  };
}

const LINE_FIELDS = ["id", "payment_order_id", "amount", "status", "failure_reason", "origin"] as const;

/** A refund inside its payment's JSON. */
export const refundLine = (refund: Refund) => {
  const json = refundView(refund);
  return Object.fromEntries(LINE_FIELDS.map((f) => [f, json[f]])) as Pick<
    RefundJson,
    (typeof LINE_FIELDS)[number]
  >;
};
