import type { PaymentOrder } from "../../domain/payment-order.js";
import { ErrorCodes, SettlekitError } from "../../errors.js";

/**
 * How long a fulfilled order's money is held before it becomes the seller's available balance
 * (e.g. the buyer's return window after delivery). Both bounds are optional:
 * - `afterDeliveryMs` — available this long after `deliveredAt`. While no delivery date is
 *   reported, the hold waits for one (unless `afterShipmentMs` gives a bound).
 * - `afterShipmentMs` — available this long after `shippedAt`, when there is no delivery rule or
 *   no delivery date yet (a delivered order counts as shipped at the latest when delivered).
 * A delivery date, once known, decides under `afterDeliveryMs` (the return window runs from
 * delivery, even if that ends later than the shipment bound). An order fulfilled without any date
 * counts as shipped and delivered at its fulfilment. With neither bound (the default) there is no
 * hold: the money is available at fulfilment.
 */
export interface PayoutHoldPolicy {
  readonly afterDeliveryMs?: number;
  readonly afterShipmentMs?: number;
}

/**
 * A host's own hold rule: when an order fulfilled (`fulfilledAt` set, with the `shippedAt` /
 * `deliveredAt` reported so far) becomes available, or undefined to wait for a later report.
 * Called at fulfilment and again whenever a later `fulfilOrder` adds a date. A date before the
 * fulfilment is taken as the fulfilment (money is never available before the order is fulfilled).
 */
export type PayoutHoldFunction = (order: PaymentOrder) => Date | undefined;

/** `PaymentSystemOptions.payoutHold`: a {@link PayoutHoldPolicy} or a {@link PayoutHoldFunction}. */
export type PayoutHold = PayoutHoldPolicy | PayoutHoldFunction;

/** The resolved hold: the release date of a fulfilled order (undefined: waits for a date). */
export type ReleaseDate = (order: PaymentOrder) => Date | undefined;

const plus = (date: Date, ms: number) => new Date(date.getTime() + ms);

function checkMs(value: number | undefined, param: string): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, `${param} must be a number of ms ≥ 0.`, { param });
  }
}

/** Checks `payoutHold` once (when the system is created) and returns its release-date rule. */
export function resolvePayoutHold(hold: PayoutHold | undefined): ReleaseDate {
  const atFulfilment = (order: PaymentOrder) => order.fulfilledAt;
  if (hold === undefined) return atFulfilment;
  if (typeof hold === "function") {
    return (order) => {
      const date = hold(order);
      if (date === undefined) return undefined;
      if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
        throw new SettlekitError(
          ErrorCodes.VALIDATION_FAILED,
          `payoutHold returned ${String(date)} for order ${order.id}, not a Date.`,
          { param: "payoutHold" },
        );
      }
      const fulfilled = order.fulfilledAt;
      return fulfilled && date < fulfilled ? fulfilled : date;
    };
  }
  if (typeof hold !== "object" || hold === null) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "payoutHold must be an object or a function.", {
      param: "payoutHold",
    });
  }
  const { afterDeliveryMs, afterShipmentMs } = hold;
  checkMs(afterDeliveryMs, "payoutHold.afterDeliveryMs");
  checkMs(afterShipmentMs, "payoutHold.afterShipmentMs");
  if (afterDeliveryMs === undefined && afterShipmentMs === undefined) return atFulfilment;
  return (order) => {
    const fulfilled = order.fulfilledAt;
    if (!fulfilled) return undefined;
    const undated = order.shippedAt === undefined && order.deliveredAt === undefined;
    const delivered = order.deliveredAt ?? (undated ? fulfilled : undefined);
    const shipped = order.shippedAt ?? delivered;
    let date: Date | undefined;
    if (afterDeliveryMs !== undefined && delivered) date = plus(delivered, afterDeliveryMs);
    else if (afterShipmentMs !== undefined && shipped) date = plus(shipped, afterShipmentMs);
    return date && date < fulfilled ? fulfilled : date;
  };
}
