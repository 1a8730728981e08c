import { ErrorCodes, SettlekitError } from "../errors.js";
import type { CurrencyCode } from "../money/currency.js";
import { type OrderRefundAction, type OrderRefundStatus, orderRefundMachine } from "./order-refund-status.js";
import {
  isRefundableOrderStatus,
  type PaymentOrderAction,
  type PaymentOrderStatus,
  paymentOrderMachine,
} from "./payment-order-status.js";
import type { ApplyResult } from "./state-machine.js";

/** The two status dimensions of a payment order; the rest of {@link PaymentOrder} never gates moves. */
export interface PaymentOrderState {
  /** How far the order got: paid, fulfilled, paid out. Never reset by a refund. */
  status: PaymentOrderStatus;
  /** How much of it went back to the buyer. */
  refundStatus: OrderRefundStatus;
}

/**
 * One seller's share of a {@link Payment}. The payment method and PSP are the payment's.
 * Refunds keep `status` (see {@link OrderRefundStatus} for why) and are read from `refundStatus`.
 */
export interface PaymentOrder extends PaymentOrderState {
  /** Settlekit's id. */
  id: string;
  /** The payment this order belongs to. */
  paymentId: string;
  /** The host's buyer id (the payment's), opaque to settlekit. */
  buyerId: string;
  /** The host's seller id; names the `seller:<id>:*` ledger accounts. */
  sellerId: string;
  /** ISO 4217 code; always the payment's currency. */
  currency: CurrencyCode;
  /** The seller's share in minor units, fees included; positive. */
  amount: bigint;
  /** What the buyer bought from this seller, as the host described it (shown on the PSP's page). */
  description?: string | undefined;
  /** Sum of refunds allocated to this order; `0n` ≤ refundedAmount ≤ amount. */
  refundedAmount: bigint;
  /** Why the order failed (the payment's decline, `canceled`, `expired`); cleared on retry. */
  failureReason?: string | undefined;
  /** The PSP's id for the payout/transfer that paid this order out, once `paid_out`. */
  payoutReference?: string | undefined;
  /** Host-supplied key/value pairs, stored and returned verbatim. */
  metadata: Record<string, string>;
  /** Optimistic-locking counter: starts at 1, incremented by every stored change. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
  /** Set with `fulfilled`: when the host said the seller shipped or delivered. */
  fulfilledAt?: Date | undefined;
  /** When the seller shipped the order, as the host reported it at fulfilment (never in the future). */
  shippedAt?: Date | undefined;
  /** When the order reached the buyer, as the host reported it (never in the future, never before shipment). */
  deliveredAt?: Date | undefined;
  /**
   * When the seller's share becomes available (the end of the payout hold, see
   * `PaymentSystemOptions.payoutHold`); set at fulfilment, undefined while the hold waits for a
   * date not reported yet (e.g. delivery). Until `releasedAt` the share stays in `seller:S:pending`.
   */
  availableAt?: Date | undefined;
  /**
   * When the hold ended: the `fulfilled:<order id>` journal moved the share (less fees) to
   * `seller:S:available`. Undefined while the order is held (or not fulfilled).
   */
  releasedAt?: Date | undefined;
  /** Set with `paid_out`. */
  paidOutAt?: Date | undefined;
}

/** Any action on a payment order: lifecycle or refund (their names do not overlap). */
export type OrderAction = PaymentOrderAction | OrderRefundAction;

/** A status a PSP or host may report for an order, flattened across both dimensions. */
export type PaymentOrderReportedStatus = PaymentOrderStatus | Exclude<OrderRefundStatus, "none">;

function blocked(state: PaymentOrderState, to: string, action?: OrderAction): SettlekitError {
  const details: Record<string, unknown> = { machine: "payment_order", from: state.status, to };
  if (action !== undefined) details.action = action;
  details.refundStatus = state.refundStatus;
  const by = action === undefined ? "" : ` by "${action}"`;
  return new SettlekitError(
    ErrorCodes.INVALID_STATE_TRANSITION,
    `payment_order cannot go from "${state.status}" (refund: ${state.refundStatus}) to "${to}"${by}.`,
    { details },
  );
}

const isRefundReport = (s: PaymentOrderReportedStatus): s is Exclude<OrderRefundStatus, "none"> =>
  s === "partially_refunded" || s === "refunded";
const refundGuard = (o: PaymentOrderState) => isRefundableOrderStatus(o.status);
const lifecycleGuard = (o: PaymentOrderState, to: PaymentOrderStatus) =>
  o.refundStatus !== "refunded" || (to !== "fulfilled" && to !== "paid_out");

/**
 * Performs `action` on an order (or just its state), returning a copy with the moved dimension.
 * Cross-dimension guards: refunds need captured money (`succeeded`, `fulfilled`, `paid_out`), and a
 * fully refunded order is neither fulfilled nor paid out (there is nothing left to ship or pay).
 * @throws {SettlekitError} `INVALID_STATE_TRANSITION`.
 */
export function transitionPaymentOrder<T extends PaymentOrderState>(order: T, action: OrderAction): T {
  if (action === "refund" || action === "refund_partially") {
    const refundStatus = orderRefundMachine.transition(order.refundStatus, action);
    if (!refundGuard(order)) throw blocked(order, refundStatus, action);
    return { ...order, refundStatus };
  }
  const status = paymentOrderMachine.transition(order.status, action);
  if (!lifecycleGuard(order, status)) throw blocked(order, status, action);
  return { ...order, status };
}

/**
 * Applies a reported status to the dimension it belongs to, with the rules of
 * {@link StateMachine.apply} (same/stale ignored, illegal throws) plus the guards of
 * {@link transitionPaymentOrder}. Never retries: a reported `pending` after `failed` is stale.
 * @throws {SettlekitError} `INVALID_STATE_TRANSITION`.
 */
export function applyToPaymentOrder<T extends PaymentOrderState>(
  order: T,
  proposed: PaymentOrderReportedStatus,
): ApplyResult<T> {
  if (isRefundReport(proposed)) {
    const result = orderRefundMachine.apply(order.refundStatus, proposed);
    if (!result.changed) return { state: order, changed: false, reason: result.reason };
    if (!refundGuard(order)) throw blocked(order, proposed);
    return { state: { ...order, refundStatus: result.state }, changed: true };
  }
  const result = paymentOrderMachine.apply(order.status, proposed);
  if (!result.changed) return { state: order, changed: false, reason: result.reason };
  if (!lifecycleGuard(order, result.state)) throw blocked(order, proposed);
  return { state: { ...order, status: result.state }, changed: true };
}
