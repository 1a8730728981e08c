import type { CurrencyCode } from "../money/currency.js";
import type { PaymentStatus } from "./payment-status.js";

/** Payment methods a payment can be paid with (usable as a zod enum). */
export const PAYMENT_METHODS = ["card", "bank_transfer"] as const;

/**
 * How the buyer pays. `card` settles at once or fails at once (optionally after 3-D Secure);
 * `bank_transfer` sits in `processing` until the transfer arrives or the payment expires.
 */
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

/**
 * One buyer payment: the payment event the PSP sees. It is split into one {@link PaymentOrder} per
 * seller; the orders' amounts add up to the payment's `amount` in the same currency.
 *
 * A plain record: no behaviour, safe to serialise (after converting the bigints). Status changes go
 * through {@link paymentMachine} and are stored with an optimistic-locking check on `version`.
 */
export interface Payment {
  /** Settlekit's id (also the root of the PSP idempotency key for the registration). */
  id: string;
  /** The host's buyer id, opaque to settlekit. */
  buyerId: string;
  /** ISO 4217 code of `amount` and `refundedAmount`. */
  currency: CurrencyCode;
  /** Total to pay, in minor units of `currency`; positive. */
  amount: bigint;
  /** Lifecycle status; see {@link PaymentStatus}. */
  status: PaymentStatus;
  /** The method the buyer chose (or the host offered). */
  method: PaymentMethod;
  /** Which payment provider handles it (`sandbox`, `stripe`, `square`, ...). */
  pspId: string;
  /**
   * The PSP's id for the current attempt (session, payment link, payment intent). Unset until the
   * hosted payment is registered; replaced on a retry. PSP reports for another reference are
   * stale and must not reach `paymentMachine.apply`.
   */
  pspReference?: string | undefined;
  /** Where the PSP sends the buyer after paying (the host's status page). */
  successUrl: string;
  /** Where the PSP sends the buyer who gives up. */
  cancelUrl: string;
  /** Payment attempt number: 1, then + 1 for each retry after a failed attempt. */
  attempt: number;
  /** Where to send the buyer to pay; set together with `pspReference`. */
  redirectUrl?: string | undefined;
  /** Why the last attempt failed (PSP decline code or settlekit reason); cleared on retry. */
  failureReason?: string | undefined;
  /**
   * Why the payment is (or was) in `requires_review`: `amount_mismatch`, `currency_mismatch` or
   * `amount_not_reported` (a success that did not say how much was captured). Kept after an
   * operator's decision, as the record of what happened.
   */
  reviewReason?: string | undefined;
  /** The amount the PSP reported when it sent the payment to review, in minor units, if it said one. */
  reportedAmount?: bigint | undefined;
  /** The currency the PSP reported when it sent the payment to review, as the PSP spelled it. */
  reportedCurrency?: string | undefined;
  /** Sum of succeeded refunds, in minor units; `0n` ≤ refundedAmount ≤ amount. */
  refundedAmount: bigint;
  /** Host-supplied key/value pairs, stored and returned verbatim (never card data). */
  metadata: Record<string, string>;
  /** Optimistic-locking counter: starts at 1, incremented by every stored change. */
  version: number;
  /** When the payment was stored. */
  createdAt: Date;
  /** When it was last changed (equals `createdAt` until then). */
  updatedAt: Date;
  /** When an unpaid payment expires (the pending sweeper then applies `expire`). */
  expiresAt?: Date | undefined;
  /**
   * The host's delivery estimate (`estimateDelivery`), fixed when the payment succeeded: the
   * confirmation email and the status page show the same date.
   */
  estimatedDeliveryAt?: Date | undefined;
}
