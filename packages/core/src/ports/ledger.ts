import type { AccountBalance, Journal } from "../ledger/types.js";

/** Result of {@link LedgerRepository.insertJournal}. */
export type InsertJournalResult =
  | { readonly inserted: true }
  | { readonly inserted: false; readonly existing: Journal };

/**
 * Ledger storage. Adapters store what core has already validated; they never decide whether a
 * journal is balanced. Everything here runs inside the `StoreTx` it was obtained from.
 */
export interface LedgerRepository {
  /**
   * Appends the journal, its postings and its balance deltas (one row update per account and
   * currency, see `journalBalanceDeltas`) atomically, as part of the surrounding transaction.
   *
   * Concurrency contract: references are unique. When a journal with the same `reference`
   * exists (committed, or committed by a concurrent transaction while this one waited), nothing
   * is written and the stored journal is returned as `existing`. Exactly one of N concurrent
   * inserts of one reference reports `inserted: true`. Concurrent inserts touching the same
   * accounts must never surface a deadlock to the caller and must leave exact balances.
   */
  insertJournal(journal: Journal): Promise<InsertJournalResult>;

  /** The journal with this reference, or null. */
  getJournal(reference: string): Promise<Journal | null>;

  /**
   * Journals that touch `account` — or, with `accounts`, any of them — (any currency), oldest
   * first (posting order), at most `limit` (default 100); `afterId` continues after that journal.
   */
  listJournals(query: {
    account: string;
    accounts?: readonly string[];
    limit?: number;
    afterId?: string;
  }): Promise<Journal[]>;

  /**
   * Balance of one account in one currency: the sum over all of its balance rows (hot accounts
   * are split in several rows). An account never posted to has a zero balance.
   */
  getBalance(account: string, currency: string): Promise<AccountBalance>;

  /**
   * Balances of every account whose address starts with `accountPrefix` (all when omitted) — or,
   * with `account`, of that one account alone in every currency (an indexed lookup, where a
   * prefix may have to scan every balance) — optionally of one currency, ordered by account then
   * currency.
   */
  listBalances(query?: {
    accountPrefix?: string;
    account?: string;
    currency?: string;
  }): Promise<AccountBalance[]>;
}
