import type { PspPaymentStatus } from "../ports/psp.js";

/**
 * Why money the PSP captured on an attempt belongs to no payment order and goes back to the buyer:
 * - `superseded` — the payment was already paid by another attempt (the buyer paid an old page
 *   and the new one, or a card on one page and a bank transfer on another);
 * - `after_expiry` / `after_cancel` — the capture came after the payment expired or was canceled;
 * - `review_rejected` — an operator rejected a payment in review whose attempt had captured money.
 */
export type UnownedCaptureReason = "superseded" | "after_expiry" | "after_cancel" | "review_rejected";

/** Where the automatic refund of an unowned capture stands. */
export type CaptureRefundStatus = "pending" | "succeeded" | "failed";

/**
 * One registration of a payment at its PSP: the first, and one more per retry. Every attempt's
 * reference keeps resolving to its payment, so a report about an old page is never lost: it is
 * recorded here, and money captured on an attempt the payment does not need is refunded
 * automatically (see `unownedCapture`).
 */
export interface PaymentAttempt {
  readonly paymentId: string;
  /** 1, 2… as `Payment.attempt` counted it when this attempt was registered. */
  readonly attempt: number;
  readonly pspId: string;
  /** The PSP's id of this attempt, as `createHostedPayment` returned it. */
  readonly pspReference: string;
  /** What the attempt asked for, minor units of `currency`. */
  readonly amount: bigint;
  readonly currency: string;
  /**
   * The last status the PSP reported for this attempt (`requires_payment` once registered). For
   * the attempt the payment follows, the payment's own status carries it (it is not written on
   * every report): `system.listPaymentAttempts` shows the two together.
   */
  readonly status: PspPaymentStatus;
  /** Set once settlekit closed the attempt at the PSP (a retry replaced it, or the payment expired). */
  readonly closedAt?: Date | undefined;
  /** What the PSP said it captured on this attempt, when it reported a success. */
  readonly capturedAmount?: bigint | undefined;
  readonly capturedCurrency?: string | undefined;
  /** Set when the capture belongs to no payment order and is being returned to the buyer. */
  readonly unownedReason?: UnownedCaptureReason | undefined;
  readonly captureRefundStatus?: CaptureRefundStatus | undefined;
  /** The PSP's id of that refund, once it answered. */
  readonly captureRefundReference?: string | undefined;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}
