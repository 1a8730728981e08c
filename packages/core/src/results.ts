import type { Dispute } from "./domain/dispute.js";
import type { NextAction } from "./domain/next-action.js";
import type { Payment } from "./domain/payment.js";
import type { PaymentOrder } from "./domain/payment-order.js";
import type { Payout, PayoutLine } from "./domain/payout.js";
import type { Refund } from "./domain/refund.js";
import type { CurrencyCode } from "./money/currency.js";
import type { Job } from "./ports/jobs.js";
import type { JsonObject } from "./ports/json.js";

/**
 * What the SDK's `PaymentSystem` returns: plain typed records, money as `bigint` minor units next
 * to its currency, times as `Date`. The REST API's snake_case JSON of each is produced by
 * `views/` (one projection per resource), from these and nothing else.
 */

/**
 * One payment with what belongs to it: its payment orders (one per seller, in cart order), its
 * refunds (oldest first) and what the buyer must do next. Returned by `getPayment`,
 * `createPayment`, `retryPayment` and `resolveReview`.
 */
export interface PaymentDetails extends Readonly<Payment> {
  readonly orders: readonly PaymentOrder[];
  readonly refunds: readonly Refund[];
  readonly nextAction: NextAction;
}

/** `createPayment`'s answer: the payment, and whether it is the stored answer of an earlier request with the same key. */
export interface CreatePaymentResult {
  readonly payment: PaymentDetails;
  /** True when this is the stored answer to an earlier request with the same idempotency key. */
  readonly replayed: boolean;
}

/** A refund request's answer: the refund, and whether it is the stored answer of an earlier request with the same key. */
export interface CreateRefundResult {
  readonly refund: Refund;
  /** True when this is the stored answer to an earlier request with the same idempotency key. */
  readonly replayed: boolean;
}

/**
 * One page of a list. `hasMore` says whether asking again after the last item finds more;
 * `nextCursor` is then the id to pass on (`startingAfter` / `beforeId`), else `null`.
 */
export interface Page<T> {
  readonly data: readonly T[];
  readonly hasMore: boolean;
  readonly nextCursor: string | null;
}

/** One entry of a payment's timeline: an outbox event of the payment, with its payload as published. */
export interface PaymentEvent {
  readonly id: string;
  /** `payment.created`, `payment.succeeded`, `refund.succeeded`, … */
  readonly type: string;
  readonly createdAt: Date;
  /** The event's payload (JSON, as internal services receive it; a buyer's timeline leaves internal amounts out). */
  readonly data: JsonObject;
}

/** A seller's balances in one currency, in minor units. */
export interface WalletBalance {
  readonly currency: CurrencyCode;
  /** Paid by buyers, not yet available: not fulfilled, or fulfilled and in its payout hold. */
  readonly pending: bigint;
  /**
   * The part of `pending` in payout holds: one line per fulfilled order not released yet, with
   * what it holds (the order less its refunds; fees are charged at release) and when it becomes
   * available (`availableAt`; null while the hold waits for a date, e.g. delivery). Soonest first;
   * at most 500 lines.
   */
  readonly pendingReleases: readonly PendingRelease[];
  /** Fulfilled, fees deducted, not yet paid out; negative after a clawback or while a dispute holds money. */
  readonly available: bigint;
  /** The seller's share of open disputes, withdrawn by the PSP: back to `available` if won, gone if lost. */
  readonly held: bigint;
  /** In payouts the PSP has not paid yet (in this currency: the payouts' currency). */
  readonly reserved: bigint;
  /** Sent to the seller by paid payouts in this currency, less what the PSP took back. */
  readonly paidOut: bigint;
  /**
   * When the latest payout of this currency's money failed or was taken back: which one and why,
   * in words for the seller ("bank account closed: the amount is included in the next payout").
   */
  readonly payoutNotice?: { readonly payoutId: string; readonly code: string; readonly message: string };
}

/** Money of one fulfilled order in its payout hold (see {@link WalletBalance.pendingReleases}). */
export interface PendingRelease {
  readonly paymentOrderId: string;
  /** Minor units held for the order (before fees). */
  readonly amount: bigint;
  /** When it becomes available; null while the hold waits for a date not reported yet. */
  readonly availableAt: Date | null;
}

/** A seller's wallet: one balance per currency the seller has money in, by currency code. */
export interface SellerWallet {
  readonly sellerId: string;
  readonly balances: readonly WalletBalance[];
}

/** A payout with every journal line it pays (`lines` sum to `payout.sourceAmount`). */
export interface PayoutDetails {
  readonly payout: Payout;
  readonly lines: readonly PayoutLine[];
}

/** What asking for a payout did, per wallet currency: a payout reserved, or why there is none. */
export interface RequestPayoutResult {
  readonly payouts: readonly Payout[];
  readonly skipped: readonly {
    readonly currency: CurrencyCode;
    /** `nothing_available`, `negative_balance` (a clawback outweighs the sales), `below_minimum`. */
    readonly reason: PayoutSkipReason;
    /** What was available (source currency, minor units; ≤ 0 unless `below_minimum`). */
    readonly available: bigint;
  }[];
}

export type PayoutSkipReason = "nothing_available" | "negative_balance" | "below_minimum";

/**
 * What moved a seller's wallet: `sale` (a buyer's payment credited pending), `fee` (fulfilment:
 * pending to available less commission and logistics), `refund` (before release) and `clawback`
 * (after), `payout` (reserved, paid), `payout_released` (a failed payout's money back),
 * `reversal` (the PSP took a paid payout back), `dispute`, `adjustment` (anything else).
 * Amounts are signed changes of each balance (credits to the seller positive).
 */
export interface WalletTransaction {
  /** The journal's id. */
  readonly id: string;
  readonly type: WalletTransactionType;
  readonly journalReference: string;
  readonly currency: CurrencyCode;
  readonly pending: bigint;
  readonly available: bigint;
  readonly reserved: bigint;
  readonly held: bigint;
  readonly paymentId?: string;
  readonly paymentOrderId?: string;
  readonly payoutId?: string;
  readonly createdAt: Date;
}

export type WalletTransactionType =
  | "sale"
  | "fee"
  | "refund"
  | "clawback"
  | "payout"
  | "payout_released"
  | "reversal"
  | "dispute"
  | "adjustment";

/** A background job that failed for good (`status: "dead"`), with its attempts' history, for an operator to replay. */
export type DeadLetter = Job;

export type { Dispute, NextAction, Payment, PaymentOrder, Payout, PayoutLine, Refund };

/** A page of `items` fetched with one extra row: the extra says there is more. */
export function pageOf<T extends { readonly id: string }>(rows: readonly T[], limit: number): Page<T> {
  const data = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  return { data, hasMore, nextCursor: hasMore ? (data.at(-1)?.id ?? null) : null };
}
