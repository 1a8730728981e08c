/**
 * Domain state machines and records of settlekit: the {@link Payment} (one buyer's payment event)
 * and its {@link PaymentOrder}s (one per seller).
 *
 * Rules shared by every machine (see {@link defineStateMachine}):
 * - Transitions are data: a table of actions, each with the states it may fire from and its one
 *   target. `canTransition`, `assertTransition` and `isTerminal` are derived from that table.
 * - Two ways to move a state:
 *   - `transition(current, action)` — a decision settlekit or the host makes (register, retry,
 *     cancel, refund, fulfil, pay out). Anything the table does not allow throws
 *     `INVALID_STATE_TRANSITION`. Retries (`failed → requires_payment`, `failed → pending`) exist only
 *     here.
 *   - `apply(current, proposed)` — an outcome reported from outside (PSP webhook or poll) that may
 *     arrive late, twice or out of order. Each state has a progress rank; a proposal equal to the
 *     current state is ignored as `same`, one of lower rank as `stale` (it can never move a state
 *     backwards, so it never performs a retry). A proposal that is not behind but still illegal
 *     (a success after `canceled`, a payout before fulfilment) throws: it is a discrepancy to
 *     alert on, not a late message.
 * - `apply` sees statuses only. Before calling it, the webhook service drops reports for another
 *   attempt than the payment's current `pspReference`; that is what separates a late report of
 *   an earlier attempt from news about the current one.
 *
 * Refund model: a payment folds refunds into its one status (`succeeded → partially_refunded →
 * refunded`; a refunded payment was necessarily a succeeded one, so nothing is lost). A payment
 * order keeps refunds in a second dimension, `refundStatus`, beside its lifecycle `status`, because
 * "fulfilled and then refunded" and "paid out and then refunded" post different ledger reversals
 * (from pending, from available, or a clawback) and must stay visible after the refund.
 */

export type { Dispute, DisputeAllocation } from "./dispute.js";
export { allocateDispute } from "./dispute.js";
export type { DisputeAction, DisputeStatus } from "./dispute-status.js";
export { DISPUTE_STATUSES, disputeMachine } from "./dispute-status.js";
export type { OrderRefundAction, OrderRefundStatus } from "./order-refund-status.js";
export { ORDER_REFUND_STATUSES, orderRefundMachine, refundStatusFor } from "./order-refund-status.js";
export type { Payment, PaymentMethod } from "./payment.js";
export { PAYMENT_METHODS } from "./payment.js";
export type { CaptureRefundStatus, PaymentAttempt, UnownedCaptureReason } from "./payment-attempt.js";
export type {
  OrderAction,
  PaymentOrder,
  PaymentOrderReportedStatus,
  PaymentOrderState,
} from "./payment-order.js";
export { applyToPaymentOrder, transitionPaymentOrder } from "./payment-order.js";
export type { PaymentOrderAction, PaymentOrderStatus } from "./payment-order-status.js";
export {
  isRefundableOrderStatus,
  PAYMENT_ORDER_STATUSES,
  paymentOrderMachine,
  REFUNDABLE_ORDER_STATUSES,
} from "./payment-order-status.js";
export type { PaymentAction, PaymentStatus } from "./payment-status.js";
export { PAYMENT_STATUSES, paymentMachine } from "./payment-status.js";
export type {
  Payout,
  PayoutFx,
  PayoutInterval,
  PayoutLine,
  PayoutStatus,
  PayoutTrigger,
  SellerPayoutAccount,
} from "./payout.js";
export { PAYOUT_STATUSES } from "./payout.js";
export type {
  ReconciliationAnomaly,
  ReconciliationClass,
  ReconciliationItem,
  ReconciliationLeg,
  ReconciliationResolution,
  ReconciliationRun,
  ReconciliationRunStatus,
  ReconciliationSourceKind,
  ReconciliationTotal,
} from "./reconciliation.js";
export { isDiscrepancy, RECONCILIATION_CLASSES } from "./reconciliation.js";
export type { Refund, RefundOrigin, RefundStatus } from "./refund.js";
export type {
  ApplyResult,
  StateMachine,
  StateMachineOptions,
  TransitionRule,
  TransitionTable,
} from "./state-machine.js";
export { defineStateMachine } from "./state-machine.js";
