/**
 * Metadata keys settlekit writes on Stripe objects, so webhooks, retries and reports can be tied
 * back to settlekit's ids (they also appear as `payment_metadata[…]`/`refund_metadata[…]`/
 * `transfer_metadata[…]` columns in Stripe's reconciliation reports).
 */
export const META = {
  paymentId: "settlekit_payment_id",
  paymentOrderId: "settlekit_payment_order_id",
  sellerId: "settlekit_seller_id",
  sessionId: "settlekit_session_id",
  refundId: "settlekit_refund_id",
  refundReason: "settlekit_refund_reason",
  payoutId: "settlekit_payout_id",
  reversalId: "settlekit_reversal_id",
} as const;

/** The id of an expandable field, whether Stripe sent the id or the expanded object. */
export const idOf = (value: string | { id: string } | null | undefined): string | undefined =>
  typeof value === "string" ? value : (value?.id ?? undefined);

/** Unix seconds → Date. */
export const fromUnix = (seconds: number): Date => new Date(seconds * 1000);
