export type { DisputeListQuery } from "./disputes/disputes.js";
export type { FulfilRequest, ReleaseResult } from "./fulfilment/fulfilment.js";
export { FULFILLED_EVENT, RELEASED_EVENT } from "./fulfilment/fulfilment.js";
export type { PayoutHold, PayoutHoldFunction, PayoutHoldPolicy } from "./fulfilment/hold.js";
export type { IdempotencyOptions } from "./payments/create-payment.js";
export type { PaymentInput } from "./payments/payment-input.js";
export {
  idSchema,
  isStorableText,
  MAX_PAYMENT_METADATA_KEYS,
  paymentInputSchema,
  redirectUrlSchema,
  text as storableText,
} from "./payments/payment-input.js";
export type { MoneyDiscrepancy, ReviewDecision } from "./payments/payment-outcome.js";
export { moneyDiscrepancy } from "./payments/payment-outcome.js";
export type { PaymentEventsQuery, PaymentSearch } from "./payments/payment-queries.js";
export type { RetryOptions } from "./payments/retry-payment.js";
export type { ClawbackPlan } from "./payouts/clawbacks.js";
export { PAYOUT_CLAWBACK_JOB } from "./payouts/clawbacks.js";
export { payoutFailureMessage } from "./payouts/payouts.js";
export type { PayoutScheduleInput } from "./payouts/schedule.js";
export { nextPayoutAt } from "./payouts/schedule.js";
export * from "./reconciliation/index.js";
export type { ExternalRefundDiscrepancy, RefundableOrder } from "./refunds/external-refunds.js";
export {
  allocateExternalRefund,
  EXTERNAL_REFUND_DISCREPANCY_EVENT,
  EXTERNAL_REFUND_EVENT,
} from "./refunds/external-refunds.js";
export type { PaymentRefundRequest } from "./refunds/payment-refund.js";
export type { RefundFeePolicy } from "./refunds/refund-split.js";
export type { RefundRequest } from "./refunds/refunds.js";
export type { WebhookResult } from "./webhooks/webhooks.js";
