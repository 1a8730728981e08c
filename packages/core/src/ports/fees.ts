import type { PaymentOrder } from "../domain/payment-order.js";

/** The platform's cut of one fulfilled order, in minor units of the order's currency. */
export interface OrderFees {
  /** The marketplace's commission (`platform:commission`). */
  readonly commission: bigint;
  /** The logistics fee (`platform:logistics`). */
  readonly logistics: bigint;
}

/**
 * What the platform keeps when a seller fulfils an order. `base` is what the seller is still owed
 * for it (the order amount less what was refunded before fulfilment); the fees must not exceed it.
 */
export type FeePolicy = (order: PaymentOrder, base: bigint) => OrderFees;
