import type { Dispute } from "../domain/dispute.js";
import type { JsonObject } from "../ports/json.js";

/** A dispute as the operator API and the `dispute.*` events show it. Money as decimal strings. */
export function disputeView(d: Dispute): JsonObject {
  return {
    id: d.id,
    object: "dispute",
    payment_id: d.paymentId,
    psp: d.pspId,
    psp_dispute_reference: d.pspDisputeReference,
    psp_reference: d.pspReference,
    status: d.status,
    reason: d.reason ?? null,
    amount: d.amount.toString(),
    currency: d.currency,
    amount_withdrawn: d.amountWithdrawn.toString(),
    amount_reinstated: d.amountReinstated.toString(),
    fee: d.fee.toString(),
    fee_returned: d.feeReturned.toString(),
    fee_bearer: d.feeBearer,
    evidence_due_by: d.evidenceDueBy?.toISOString() ?? null,
    funds_withdrawn_at: d.fundsWithdrawnAt?.toISOString() ?? null,
    funds_reinstated_at: d.fundsReinstatedAt?.toISOString() ?? null,
    orders: d.allocations.map((a) => ({
      payment_order_id: a.paymentOrderId,
      seller_id: a.sellerId,
      amount: a.amount.toString(),
      fee: a.fee.toString(),
    })),
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
  };
}
