import type { Payout, PayoutLine, PayoutStatus, SellerPayoutAccount } from "../domain/payout.js";

/** A journal that moved a seller's available balance and no payout has paid yet. */
export interface UnpaidJournal {
  readonly journalReference: string;
  readonly kind: string;
  /** Net effect on the account in the currency asked for: credits positive, debits negative; never 0. */
  readonly amount: bigint;
  readonly postedAt: Date;
}

/**
 * Payouts to sellers and the journal lines each one pays. Same compare-and-set rule as payments:
 * `update(next)` writes only if the stored version is `next.version − 1`.
 */
export interface PayoutRepository {
  /**
   * Stores a new payout with the journal lines it pays. A journal is paid at most once per
   * (seller, currency): a line whose journal another payout of the seller already pays throws
   * `STORE_CONFLICT` and nothing is stored (callers reserve under the seller's payout-account
   * lock, so this only guards against a bug).
   */
  insert(payout: Payout, lines: readonly PayoutLine[]): Promise<void>;
  /** `forUpdate` locks the payout row until the transaction ends. */
  get(id: string, options?: { forUpdate?: boolean }): Promise<Payout | null>;
  /** The payout the PSP knows by `pspPayoutReference`, within that PSP. */
  findByPspReference(pspId: string, pspPayoutReference: string): Promise<Payout | null>;
  /** Compare-and-set on version; false when someone else changed it first. */
  update(next: Payout): Promise<boolean>;
  /**
   * A seller's payouts, newest first (`created_at`, then id), optionally of some statuses and
   * one source currency; `beforeId` continues after that payout (keyset paging).
   */
  listBySeller(query: {
    sellerId: string;
    limit: number;
    beforeId?: string;
    statuses?: readonly PayoutStatus[];
    sourceCurrency?: string;
  }): Promise<Payout[]>;
  /** Every payout of some statuses, oldest first, at most `limit` (operators, recovery). */
  listByStatus(query: {
    statuses: readonly PayoutStatus[];
    limit: number;
    afterId?: string;
  }): Promise<Payout[]>;
  /** A payout's lines, in the order the journals were posted (then by reference). */
  listLines(payoutId: string): Promise<PayoutLine[]>;
  /**
   * The journals that moved `account` (a seller's available account) in `currency` and that no
   * payout line pays yet, oldest first; journals of the kinds in `excludeKinds` (a payout's own
   * reservation) and journals whose net effect on the account is 0 are left out. Their amounts
   * sum to the account's committed balance less what the excluded kinds moved.
   */
  listUnpaidJournals(query: {
    sellerId: string;
    account: string;
    currency: string;
    excludeKinds: readonly string[];
  }): Promise<UnpaidJournal[]>;
  /**
   * Σ `amount − amountReversed` of the seller's `paid` and `reversed` payouts, per payout
   * currency, ordered by currency: what the seller has received so far.
   */
  sumPaidOut(sellerId: string): Promise<{ currency: string; amount: bigint }[]>;
}

/** Sellers' payout settings and the scheduler's place for each. Compare-and-set on version. */
export interface SellerPayoutAccountRepository {
  /** `forUpdate` locks the row: a payout of this seller is reserved under that lock. */
  get(sellerId: string, options?: { forUpdate?: boolean }): Promise<SellerPayoutAccount | null>;
  /** Inserts the account; false when one already exists for the seller (nothing changes). */
  insert(account: SellerPayoutAccount): Promise<boolean>;
  update(next: SellerPayoutAccount): Promise<boolean>;
  /**
   * Accounts whose `nextPayoutAt` ≤ `now`, earliest first (then seller id), at most `limit`. The
   * scheduler advances `nextPayoutAt` of every account it takes in the same transaction, so a
   * second scheduler sees the next ones; a store with row locks locks the listed accounts until
   * that transaction ends and skips accounts another transaction holds (Postgres `FOR UPDATE
   * SKIP LOCKED`), so schedulers running at once take different accounts.
   */
  listDue(query: { now: Date; limit: number }): Promise<SellerPayoutAccount[]>;
}
