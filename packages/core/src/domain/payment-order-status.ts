import { defineStateMachine } from "./state-machine.js";

/** Every payment-order lifecycle status, in progress order (usable as a zod enum). */
export const PAYMENT_ORDER_STATUSES = ["pending", "failed", "succeeded", "fulfilled", "paid_out"] as const;

/**
 * Lifecycle status of a payment order (one seller's share of a payment). Refunds are a separate
 * dimension ({@link OrderRefundStatus}), so this status keeps saying how far the order got:
 * - `pending` — the payment has no outcome yet.
 * - `failed` — the payment's attempt failed (also used, with a `failureReason`, when the payment
 *   is canceled or expires: the order has no money to track either way). Not terminal: retryable.
 * - `succeeded` — paid; the seller's share sits in `seller:S:pending`.
 * - `fulfilled` — the seller shipped or delivered; the share (less fees) moves to
 *   `seller:S:available` when the payout hold ends (`releasedAt`; at once without a hold).
 * - `paid_out` — the share left for the seller's bank account; terminal for the lifecycle.
 */
export type PaymentOrderStatus = (typeof PAYMENT_ORDER_STATUSES)[number];

/**
 * - `succeed` pending | failed → succeeded. From `failed` it mirrors the payment's hosted-page
 *   retry that the PSP reports as a success directly (money moved, so it is recorded).
 * - `fail` pending → failed.
 * - `retry` failed → pending: the payment starts a new attempt (a rewind; never done by `apply`).
 * - `fulfill` succeeded → fulfilled; `pay_out` fulfilled → paid_out (a payout needs fulfilment).
 */
export type PaymentOrderAction = "succeed" | "fail" | "retry" | "fulfill" | "pay_out";

/**
 * The lifecycle machine of a payment order. Ranks pending 0 < failed 1 < succeeded 2 <
 * fulfilled 3 < paid_out 4, so under `apply` a late `pending` is always stale, a late `failed`
 * after success is stale, and a payout report cannot skip fulfilment (it throws from `succeeded`).
 * Use {@link transitionPaymentOrder} / {@link applyToPaymentOrder} on whole orders: they add the
 * cross-dimension guards (no fulfilment or payout once fully refunded).
 */
export const paymentOrderMachine = defineStateMachine<PaymentOrderStatus, PaymentOrderAction>(
  {
    succeed: { from: ["pending", "failed"], to: "succeeded" },
    fail: { from: ["pending"], to: "failed" },
    retry: { from: ["failed"], to: "pending" },
    fulfill: { from: ["succeeded"], to: "fulfilled" },
    pay_out: { from: ["fulfilled"], to: "paid_out" },
  },
  {
    name: "payment_order",
    rank: { pending: 0, failed: 1, succeeded: 2, fulfilled: 3, paid_out: 4 },
    rewinds: ["retry"],
  },
);

/** Lifecycle statuses in which money was captured, so a refund is possible. */
export const REFUNDABLE_ORDER_STATUSES: readonly PaymentOrderStatus[] = [
  "succeeded",
  "fulfilled",
  "paid_out",
];

/** Whether an order in `status` holds captured money that can be refunded. */
export function isRefundableOrderStatus(status: PaymentOrderStatus): boolean {
  return REFUNDABLE_ORDER_STATUSES.includes(status);
}
