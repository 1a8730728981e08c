/**
 * Double-entry ledger types.
 *
 * An account is an address plus a currency: `seller:S42:pending` in USD and in JPY are two
 * accounts. A posting moves a positive amount to the debit or credit side of one account. A
 * journal is ≥ 2 postings whose debits equal its credits in every currency, identified by a
 * unique `reference` (its idempotency key in the ledger). Balances are `debits − credits`, so
 * across all accounts of one currency they always sum to zero.
 */

/** Which side of the account a posting hits. Debit raises `balance`, credit lowers it. */
export type PostingDirection = "debit" | "credit";

export interface Posting {
  /** Account address, e.g. `psp:sandbox:receivable` or `seller:S42:pending`. */
  readonly account: string;
  /** ISO 4217 code; the account's currency. */
  readonly currency: string;
  readonly direction: PostingDirection;
  /** Minor units, > 0 and ≤ {@link MAX_POSTING_AMOUNT}. */
  readonly amount: bigint;
}

/** What a caller asks the ledger to post. */
export interface JournalInput {
  /**
   * Unique idempotency reference, e.g. `payment:pay_123:succeeded`. Posting the same reference
   * again posts nothing; see `postJournal`.
   */
  readonly reference: string;
  /** What happened, in the design's words: `payment_succeeded`, `fulfilled`, `payout`, `refund`… */
  readonly kind: string;
  readonly postings: readonly Posting[];
  /** Small string facts for humans and reconciliation (payment id, PSP reference). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A journal as stored: immutable once written. */
export interface Journal {
  readonly id: string;
  readonly reference: string;
  readonly kind: string;
  readonly postings: readonly Posting[];
  readonly metadata: Readonly<Record<string, string>>;
  readonly createdAt: Date;
}

/** Net movement of one account in one journal, the unit in which balance rows are updated. */
export interface BalanceDelta {
  readonly account: string;
  readonly currency: string;
  readonly debits: bigint;
  readonly credits: bigint;
}

export interface AccountBalance {
  readonly account: string;
  readonly currency: string;
  /** Sum of all debit postings. */
  readonly debits: bigint;
  /** Sum of all credit postings. */
  readonly credits: bigint;
  /** `debits − credits`. */
  readonly balance: bigint;
}

/**
 * Largest amount one posting may carry: 2^53 − 1 minor units. It keeps every amount exactly
 * representable at JSON edges that insist on numbers, and leaves int64 balance columns
 * ~1000× headroom.
 */
export const MAX_POSTING_AMOUNT = 9_007_199_254_740_991n;
