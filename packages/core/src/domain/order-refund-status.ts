import { ErrorCodes, SettlekitError } from "../errors.js";
import { defineStateMachine } from "./state-machine.js";

/** Every payment-order refund status, in progress order (usable as a zod enum). */
export const ORDER_REFUND_STATUSES = ["none", "partially_refunded", "refunded"] as const;

/**
 * The refund dimension of a payment order, kept apart from its lifecycle status
 * ({@link PaymentOrderStatus}) so a refund never erases whether the order was fulfilled or paid out:
 * the ledger reverses a refund from `seller:S:pending` before fulfilment, from `available` after it,
 * and as a clawback (available may go negative) after payout, so it needs both facts.
 * - `none` — nothing refunded (`refundedAmount` is `0n`).
 * - `partially_refunded` — `0n < refundedAmount < amount`; more partial refunds may follow.
 * - `refunded` — `refundedAmount === amount`; terminal.
 */
export type OrderRefundStatus = (typeof ORDER_REFUND_STATUSES)[number];

/**
 * - `refund_partially` none | partially_refunded → partially_refunded (a self-loop when repeated).
 * - `refund` none | partially_refunded → refunded (the whole amount, or the remainder).
 */
export type OrderRefundAction = "refund_partially" | "refund";

/**
 * The refund machine of a payment order. Ranks none 0 < partially_refunded 1 < refunded 2, so a
 * late partial-refund report after the full refund is stale. It knows nothing about the lifecycle;
 * {@link transitionPaymentOrder} adds the guard that only a paid order can be refunded.
 */
export const orderRefundMachine = defineStateMachine<OrderRefundStatus, OrderRefundAction>(
  {
    refund_partially: { from: ["none", "partially_refunded"], to: "partially_refunded" },
    refund: { from: ["none", "partially_refunded"], to: "refunded" },
  },
  { name: "order_refund", rank: { none: 0, partially_refunded: 1, refunded: 2 } },
);

/**
 * The refund status that `refundedAmount` of `amount` amounts to, so callers never pick
 * `partially_refunded` for a refund of the remainder (or the reverse).
 * @throws {SettlekitError} `INVALID_AMOUNT` when `amount` ≤ 0, `refundedAmount` < 0 or
 *   `refundedAmount` > `amount` (over-refund).
 */
export function refundStatusFor(amount: bigint, refundedAmount: bigint): OrderRefundStatus {
  if (amount <= 0n || refundedAmount < 0n || refundedAmount > amount) {
    throw new SettlekitError(
      ErrorCodes.INVALID_AMOUNT,
      `Refunded amount ${refundedAmount} is not within 0..${amount}.`,
      {
        param: "refundedAmount",
        details: { amount: String(amount), refundedAmount: String(refundedAmount) },
      },
    );
  }
  if (refundedAmount === 0n) return "none";
  return refundedAmount === amount ? "refunded" : "partially_refunded";
}
