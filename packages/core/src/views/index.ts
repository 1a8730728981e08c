export { paymentAttemptView, unownedCapturePayload } from "./attempt.js";
export { deadLetterView } from "./dead-letter.js";
export { disputeView } from "./dispute.js";
export type { EventSchema, EventType } from "./event-schemas.js";
export { EVENT_SCHEMA_VERSION, EVENT_TYPES, eventSchemaFor, eventSchemas } from "./event-schemas.js";
export { listView, paymentEventView } from "./list.js";
export type { PaymentSummaryJson } from "./payment.js";
export { paymentEventPayload, paymentSummaryView, paymentView } from "./payment.js";
export type { PaymentOrderJson } from "./payment-order.js";
export { paymentOrderEventLine, paymentOrderLine, paymentOrderView } from "./payment-order.js";
export {
  payoutCycleView,
  payoutDetailsView,
  payoutLineView,
  payoutRequestView,
  payoutScheduleView,
  payoutView,
  walletTransactionView,
} from "./payout.js";
export { reconciliationItemView, reconciliationView } from "./reconciliation.js";
export type { RefundJson } from "./refund.js";
export { refundLine, refundView } from "./refund.js";
export { walletView } from "./wallet.js";
