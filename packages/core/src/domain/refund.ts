import type { CurrencyCode } from "../money/currency.js";

/** `pending` while the PSP works on it; `succeeded` moves money back; `failed` moves nothing. */
export type RefundStatus = "pending" | "succeeded" | "failed";

/**
 * Money sent back to the buyer for one payment order (a checkout-wide refund is one refund per
 * order). Never more than what is left of the order's captured amount.
 */
export interface Refund {
  id: string;
  checkoutId: string;
  paymentOrderId: string;
  /** Minor units; positive. */
  amount: bigint;
  currency: CurrencyCode;
  status: RefundStatus;
  /** The PSP's id for the refund, once it answered. */
  pspRefundReference?: string | undefined;
  reason?: string | undefined;
  failureReason?: string | undefined;
  /** Optimistic-locking counter, as on checkouts. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}
