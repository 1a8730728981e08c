export type { IdempotencyOptions, PaymentResult } from "./create-payment.js";
export type { PaymentSystemOptions } from "./deps.js";
export type { DisputeListQuery } from "./disputes.js";
export { disputeView } from "./disputes.js";
export type { ExternalRefundDiscrepancy, RefundableOrder } from "./external-refunds.js";
export {
  allocateExternalRefund,
  EXTERNAL_REFUND_DISCREPANCY_EVENT,
  EXTERNAL_REFUND_EVENT,
} from "./external-refunds.js";
export type { FulfilRequest } from "./fulfilment.js";
export { paymentOrderView } from "./fulfilment.js";
export { PSP_UNAVAILABLE } from "./job-handlers.js";
export type { PaymentInput } from "./payment-input.js";
export {
  idSchema,
  isStorableText,
  MAX_PAYMENT_METADATA_KEYS,
  paymentInputSchema,
  redirectUrlSchema,
  text as storableText,
} from "./payment-input.js";
export type { MoneyDiscrepancy, ReviewDecision } from "./payment-outcome.js";
export { moneyDiscrepancy } from "./payment-outcome.js";
export type { PaymentEventsQuery, PaymentSearch } from "./payment-queries.js";
export type { PaymentRefundRequest } from "./payment-refund.js";
export type { PaymentSystem } from "./payment-system.js";
export { createPaymentSystem } from "./payment-system.js";
export type { NextAction } from "./payment-view.js";
export { nextAction, paymentView } from "./payment-view.js";
export type { RefundRequest } from "./refunds.js";
export { refundView } from "./refunds.js";
export type { RetryOptions } from "./retry-payment.js";
export type { SweepResult } from "./sweeper.js";
export type { WebhookResult } from "./webhooks.js";
export type { WorkerOptions } from "./worker.js";
export { createWorker, runWorkerPass } from "./worker.js";
