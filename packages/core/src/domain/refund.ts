import type { CurrencyCode } from "../money/currency.js";

/** `pending` while the PSP works on it; `succeeded` moves money back; `failed` moves nothing. */
export type RefundStatus = "pending" | "succeeded" | "failed";

/**
 * Who made a refund: `settlekit` (asked for through `refund`, then sent to the PSP) or `external`
 * (made at the PSP directly, e.g. in the Stripe Dashboard, and learnt from its webhook: one refund
 * per payment order it was allocated to, all with the PSP's refund reference).
 */
export type RefundOrigin = "settlekit" | "external";

/**
 * Money sent back to the buyer for one payment order (a payment-wide refund is one refund per
 * order). Never more than what is left of the order's captured amount.
 */
export interface Refund {
  id: string;
  paymentId: string;
  paymentOrderId: string;
  /** Minor units; positive. */
  amount: bigint;
  currency: CurrencyCode;
  status: RefundStatus;
  /**
   * The PSP's id for the refund, once it answered. Unique per payment order: an external refund
   * spread over several orders shares one reference across its rows.
   */
  pspRefundReference?: string | undefined;
  /** Absent means `settlekit`. */
  origin?: RefundOrigin | undefined;
  reason?: string | undefined;
  failureReason?: string | undefined;
  /** Optimistic-locking counter, as on payments. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}
