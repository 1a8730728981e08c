import type { CurrencyCode } from "../money/currency.js";

/**
 * A payout's life:
 * - `pending`: the seller's available money is reserved (journal `available → reserved`); the PSP
 *   is being (or will be) asked to pay it. A PSP answer that may or may not have paid keeps it
 *   here until the PSP is asked by payout id.
 * - `paid`: the PSP paid (journal `reserved → psp:X:payouts`). Terminal unless the PSP takes it back.
 * - `failed`: the PSP refused or the retries ran out: the reservation is released back to
 *   `available` (at the locked rate for an FX payout), with the reason on the payout. Terminal.
 * - `reversed`: after `paid`, the PSP took (part of) it back (`amountReversed`), which went back to
 *   the seller's available balance.
 */
export type PayoutStatus = "pending" | "paid" | "failed" | "reversed";

export const PAYOUT_STATUSES: readonly PayoutStatus[] = ["pending", "paid", "failed", "reversed"];

/** Why a payout exists: the seller's schedule (`scheduled`) or someone asked (`manual`). */
export type PayoutTrigger = "scheduled" | "manual";

/** The rate an FX payout was converted at, locked when its money was reserved. */
export interface PayoutFx {
  /** The rate's id as the `FxRates` adapter gave it (stored so the conversion can be audited). */
  readonly rateId: string;
  /** Where the rate came from (e.g. `ecb`, `static`). */
  readonly source: string;
  /** Units of the payout currency per unit of the source currency, as an exact decimal string. */
  readonly rate: string;
  /** The platform's spread in basis points, taken from the converted amount. */
  readonly spreadBps: number;
  /** What the source amount converts to at `rate`, before the spread (payout currency, minor units). */
  readonly convertedAmount: bigint;
  /** The spread kept as revenue (payout currency, minor units): `convertedAmount − amount`. */
  readonly spreadAmount: bigint;
}

/**
 * Money sent to one seller in one currency: everything that was available to the seller in
 * `sourceCurrency` when it was reserved, converted to `currency` when the seller is paid in
 * another one. Its `lines` (see `PayoutLine`) explain `sourceAmount` journal by journal.
 */
export interface Payout {
  /** Settlekit's id (`pout_…`); the PSP keeps it, and the PSP idempotency key derives from it. */
  id: string;
  sellerId: string;
  /** The PSP that pays it (the payout provider). */
  pspId: string;
  status: PayoutStatus;
  trigger: PayoutTrigger;
  /** What the seller's available balance gave, in the wallet's currency; positive. */
  sourceAmount: bigint;
  sourceCurrency: CurrencyCode;
  /** What the seller receives at the PSP, minor units of `currency`; positive. */
  amount: bigint;
  currency: CurrencyCode;
  /** Present when `currency` differs from `sourceCurrency`. */
  fx?: PayoutFx | undefined;
  /** The PSP's id for it (Stripe `tr_…`), once the PSP answered. */
  pspPayoutReference?: string | undefined;
  /** How often the PSP was asked (a retry after a retryable failure asks again). */
  attempts: number;
  /**
   * Set before each PSP call and cleared once the PSP's answer is recorded: when a call times out
   * or the process dies during it, the PSP may have paid, so the runner asks the PSP by payout id
   * (`retrievePayout`) before it pays again.
   */
  pspOutcomeUnknown: boolean;
  /** The last retryable problem, while it is still `pending` (for operators). */
  lastError?: string | undefined;
  /** Machine-readable reason of a `failed` payout (`account_closed`, `psp_unavailable`, …). */
  failureCode?: string | undefined;
  /** Said to the seller: what happened and what happens to the money. */
  failureMessage?: string | undefined;
  /** Of `amount`, what the PSP took back after paying (`reversed`). */
  amountReversed: bigint;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  paidAt?: Date | undefined;
  failedAt?: Date | undefined;
}

/**
 * One journal a payout pays: the journal's net effect on the seller's available balance in the
 * payout's source currency (a sale's net credit, a clawback's debit, a failed payout's release…).
 * A journal is paid by at most one payout; a payout's lines sum to its `sourceAmount`.
 */
export interface PayoutLine {
  readonly payoutId: string;
  readonly journalReference: string;
  /** The journal's kind (`fulfilled`, `refund`, `payout_released`, …). */
  readonly kind: string;
  /** Signed: credits to the seller's available balance are positive. */
  readonly amount: bigint;
  readonly currency: CurrencyCode;
  /** When the journal was posted. */
  readonly postedAt: Date;
}

/** How often a seller is paid without asking: never (only on request), every day, every week. */
export type PayoutInterval = "manual" | "daily" | "weekly";

/** A seller's payout settings, and where the scheduler stands for them. */
export interface SellerPayoutAccount {
  sellerId: string;
  interval: PayoutInterval;
  /** The currency the seller is paid in; absent: each wallet currency is paid in itself. */
  payoutCurrency?: CurrencyCode | undefined;
  /** When the scheduler next pays this seller (null for `manual`). */
  nextPayoutAt: Date | null;
  /**
   * Why the last cycle paid nothing (`below_minimum`, `negative_balance`, `nothing_available`), so
   * it is reported once, not retried every cycle; cleared by a payout.
   */
  lastSkipReason?: string | undefined;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}
