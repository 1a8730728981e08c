import type { Dispute } from "../../domain/dispute.js";
import type { Payment } from "../../domain/payment.js";
import type { PaymentAttempt } from "../../domain/payment-attempt.js";
import type { PaymentOrder } from "../../domain/payment-order.js";
import type { Payout, PayoutFx, PayoutLine, SellerPayoutAccount } from "../../domain/payout.js";
import type { Refund } from "../../domain/refund.js";
import { clone } from "./state.js";

/**
 * The fields a table has columns for. A record is stored as these fields only, so a property a
 * caller added beside them is lost here as it is in a database, and a test cannot come to rely on
 * it. (`Exact` fails to compile when a domain type gains a field that is not listed.)
 */
type Exact<T, K extends readonly (keyof T)[]> = Exclude<keyof T, K[number]> extends never ? K : never;

const PAYMENT = [
  "id",
  "buyerId",
  "currency",
  "amount",
  "status",
  "method",
  "pspId",
  "pspReference",
  "successUrl",
  "cancelUrl",
  "attempt",
  "redirectUrl",
  "failureReason",
  "reviewReason",
  "reportedAmount",
  "reportedCurrency",
  "refundedAmount",
  "metadata",
  "version",
  "createdAt",
  "updatedAt",
  "expiresAt",
  "estimatedDeliveryAt",
] as const;
const ORDER = [
  "id",
  "paymentId",
  "buyerId",
  "sellerId",
  "currency",
  "amount",
  "status",
  "refundStatus",
  "description",
  "refundedAmount",
  "failureReason",
  "payoutReference",
  "metadata",
  "version",
  "createdAt",
  "updatedAt",
  "fulfilledAt",
  "shippedAt",
  "deliveredAt",
  "availableAt",
  "releasedAt",
  "paidOutAt",
] as const;
const ATTEMPT = [
  "paymentId",
  "attempt",
  "pspId",
  "pspReference",
  "amount",
  "currency",
  "status",
  "closedAt",
  "capturedAmount",
  "capturedCurrency",
  "unownedReason",
  "captureRefundStatus",
  "captureRefundReference",
  "version",
  "createdAt",
  "updatedAt",
] as const;
const REFUND = [
  "id",
  "paymentId",
  "paymentOrderId",
  "amount",
  "currency",
  "status",
  "pspRefundReference",
  "origin",
  "reason",
  "failureReason",
  "version",
  "createdAt",
  "updatedAt",
] as const;
const DISPUTE = [
  "id",
  "paymentId",
  "pspId",
  "pspDisputeReference",
  "pspReference",
  "amount",
  "currency",
  "amountWithdrawn",
  "fee",
  "amountReinstated",
  "feeReturned",
  "feeBearer",
  "reason",
  "status",
  "evidenceDueBy",
  "allocations",
  "fundsWithdrawnAt",
  "fundsReinstatedAt",
  "version",
  "createdAt",
  "updatedAt",
] as const;

const PAYOUT = [
  "id",
  "sellerId",
  "pspId",
  "status",
  "trigger",
  "sourceAmount",
  "sourceCurrency",
  "amount",
  "currency",
  "fx",
  "pspPayoutReference",
  "attempts",
  "pspOutcomeUnknown",
  "lastError",
  "failureCode",
  "failureMessage",
  "amountReversed",
  "version",
  "createdAt",
  "updatedAt",
  "paidAt",
  "failedAt",
] as const;
const PAYOUT_FX = ["rateId", "source", "rate", "spreadBps", "convertedAmount", "spreadAmount"] as const;
const PAYOUT_LINE = ["payoutId", "journalReference", "kind", "amount", "currency", "postedAt"] as const;
const SELLER_PAYOUT_ACCOUNT = [
  "sellerId",
  "interval",
  "payoutCurrency",
  "nextPayoutAt",
  "lastSkipReason",
  "version",
  "createdAt",
  "updatedAt",
] as const;

/** A deep copy of `value` with only `fields`. */
function pick<T extends object>(value: T, fields: readonly (keyof T)[]): T {
  const copy = {} as T;
  for (const field of fields) copy[field] = clone(value[field]);
  return copy;
}

export const paymentColumns = (c: Payment): Payment =>
  pick(c, PAYMENT satisfies Exact<Payment, typeof PAYMENT>);
export const orderColumns = (o: PaymentOrder): PaymentOrder =>
  pick(o, ORDER satisfies Exact<PaymentOrder, typeof ORDER>);
export const attemptColumns = (a: PaymentAttempt): PaymentAttempt =>
  pick(a, ATTEMPT satisfies Exact<PaymentAttempt, typeof ATTEMPT>);
export const refundColumns = (r: Refund): Refund => pick(r, REFUND satisfies Exact<Refund, typeof REFUND>);
export const disputeColumns = (d: Dispute): Dispute => ({
  ...pick(d, DISPUTE satisfies Exact<Dispute, typeof DISPUTE>),
  // Stored as JSON of these four fields.
  allocations: d.allocations.map((a) => ({
    paymentOrderId: a.paymentOrderId,
    sellerId: a.sellerId,
    amount: a.amount,
    fee: a.fee,
  })),
});
export const payoutColumns = (p: Payout): Payout => ({
  ...pick(p, PAYOUT satisfies Exact<Payout, typeof PAYOUT>),
  // Stored in one column each.
  fx: p.fx === undefined ? undefined : pick(p.fx, PAYOUT_FX satisfies Exact<PayoutFx, typeof PAYOUT_FX>),
});
export const payoutLineColumns = (l: PayoutLine): PayoutLine =>
  pick(l, PAYOUT_LINE satisfies Exact<PayoutLine, typeof PAYOUT_LINE>);
export const sellerPayoutAccountColumns = (a: SellerPayoutAccount): SellerPayoutAccount =>
  pick(a, SELLER_PAYOUT_ACCOUNT satisfies Exact<SellerPayoutAccount, typeof SELLER_PAYOUT_ACCOUNT>);
