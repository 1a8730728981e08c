/**
 * The state machines' specification, written out again by hand and independently of `src/domain`,
 * so the tests fail when the implementation's tables or ranks drift from it.
 * Each triple is `[from, action, to]`.
 */
import type {
  DisputeAction,
  DisputeStatus,
  OrderAction,
  OrderRefundStatus,
  PaymentAction,
  PaymentOrderReportedStatus,
  PaymentOrderStatus,
  PaymentStatus,
} from "../../src/domain/index.js";

export type Triple<S, A> = readonly [from: S, action: A, to: S];

export const PAYMENT_TRIPLES: readonly Triple<PaymentStatus, PaymentAction>[] = [
  ["created", "register", "requires_payment"],
  ["created", "fail", "failed"],
  ["created", "cancel", "canceled"],
  ["created", "expire", "expired"],
  ["requires_payment", "process", "processing"],
  ["requires_payment", "succeed", "succeeded"],
  ["requires_payment", "fail", "failed"],
  ["requires_payment", "cancel", "canceled"],
  ["requires_payment", "expire", "expired"],
  ["processing", "succeed", "succeeded"],
  ["processing", "fail", "failed"],
  ["processing", "cancel", "canceled"],
  ["processing", "expire", "expired"],
  ["failed", "retry", "requires_payment"],
  // A bank transfer sent from the page after a card was declined there.
  ["failed", "process", "processing"],
  ["failed", "succeed", "succeeded"],
  ["failed", "cancel", "canceled"],
  ["failed", "expire", "expired"],
  ["succeeded", "refund_partially", "partially_refunded"],
  ["succeeded", "refund", "refunded"],
  ["partially_refunded", "refund_partially", "partially_refunded"],
  ["partially_refunded", "refund", "refunded"],
  // A refund that succeeded failed after all (a bank refund bounced): settlekit books it back.
  ["refunded", "reverse_refund", "partially_refunded"],
  ["partially_refunded", "reverse_refunds", "succeeded"],
  ["refunded", "reverse_refunds", "succeeded"],
  ["requires_payment", "review", "requires_review"],
  ["processing", "review", "requires_review"],
  ["failed", "review", "requires_review"],
  ["requires_review", "approve", "succeeded"],
  ["requires_review", "reject", "canceled"],
];

/** Payment actions only an explicit decision performs (a PSP report never follows their rules). */
export const PAYMENT_DECISIONS: readonly PaymentAction[] = ["approve"];

export const PAYMENT_RANK: Readonly<Record<PaymentStatus, number>> = {
  created: 0,
  requires_payment: 1,
  processing: 2,
  failed: 2,
  canceled: 4,
  expired: 4,
  succeeded: 5,
  requires_review: 5,
  partially_refunded: 6,
  refunded: 7,
};

export const ORDER_TRIPLES: readonly Triple<PaymentOrderStatus, OrderAction>[] = [
  ["pending", "succeed", "succeeded"],
  ["pending", "fail", "failed"],
  ["failed", "retry", "pending"],
  ["failed", "succeed", "succeeded"],
  ["succeeded", "fulfill", "fulfilled"],
  ["fulfilled", "pay_out", "paid_out"],
];

export const ORDER_RANK: Readonly<Record<PaymentOrderStatus, number>> = {
  pending: 0,
  failed: 1,
  succeeded: 2,
  fulfilled: 3,
  paid_out: 4,
};

export const REFUND_TRIPLES: readonly Triple<OrderRefundStatus, OrderAction>[] = [
  ["none", "refund_partially", "partially_refunded"],
  ["none", "refund", "refunded"],
  ["partially_refunded", "refund_partially", "partially_refunded"],
  ["partially_refunded", "refund", "refunded"],
];

export const REFUND_RANK: Readonly<Record<OrderRefundStatus, number>> = {
  none: 0,
  partially_refunded: 1,
  refunded: 2,
};

/** Lifecycle statuses holding captured money (refunds allowed). */
export const REFUNDABLE: readonly PaymentOrderStatus[] = ["succeeded", "fulfilled", "paid_out"];

/** `"from>to"` for every allowed pair of a triple list. */
export const DISPUTE_TRIPLES: readonly Triple<DisputeStatus, DisputeAction>[] = [
  ["inquiry", "escalate", "needs_response"],
  ["inquiry", "submit", "under_review"],
  ["inquiry", "close_warning", "warning_closed"],
  ["needs_response", "submit", "under_review"],
  ["needs_response", "win", "won"],
  ["needs_response", "lose", "lost"],
  ["under_review", "win", "won"],
  ["under_review", "lose", "lost"],
];

export const DISPUTE_RANK: Readonly<Record<DisputeStatus, number>> = {
  inquiry: 0,
  needs_response: 1,
  under_review: 2,
  won: 3,
  lost: 3,
  warning_closed: 3,
};

export const pairsOf = <S, A>(triples: readonly Triple<S, A>[]): Set<string> =>
  new Set(triples.map(([from, , to]) => `${String(from)}>${String(to)}`));

/** The spec's target of `action` from `from`, or undefined when the action may not fire there. */
export const targetOf = <S, A>(triples: readonly Triple<S, A>[], from: S, action: A): S | undefined =>
  triples.find(([f, a]) => f === from && a === action)?.[2];

/** Every status a PSP may report for an order. */
export const ORDER_REPORTS: readonly PaymentOrderReportedStatus[] = [
  "pending",
  "failed",
  "succeeded",
  "fulfilled",
  "paid_out",
  "partially_refunded",
  "refunded",
];
