export { PSP_UNAVAILABLE } from "../background/job-handlers.js";
export type { SweepResult } from "../background/sweeper.js";
export type { WorkerOptions } from "../background/worker.js";
export { createWorker, runWorkerPass } from "../background/worker.js";
export type { PaymentSystemOptions } from "../deps.js";
export type { PaymentSystem } from "../system.js";
export { createPaymentSystem } from "../system.js";
export type { NextAction } from "../views/payment.js";
export { nextAction, paymentView } from "../views/payment.js";
export type { DisputeListQuery } from "./disputes/disputes.js";
export { disputeView } from "./disputes/disputes.js";
export type { FulfilRequest } from "./fulfilment/fulfilment.js";
export { paymentOrderView } from "./fulfilment/fulfilment.js";
export type { IdempotencyOptions, PaymentResult } from "./payments/create-payment.js";
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
export type { ExternalRefundDiscrepancy, RefundableOrder } from "./refunds/external-refunds.js";
export {
  allocateExternalRefund,
  EXTERNAL_REFUND_DISCREPANCY_EVENT,
  EXTERNAL_REFUND_EVENT,
} from "./refunds/external-refunds.js";
export type { PaymentRefundRequest } from "./refunds/payment-refund.js";
export type { RefundRequest } from "./refunds/refunds.js";
export { refundView } from "./refunds/refunds.js";
export type { WebhookResult } from "./webhooks/webhooks.js";
