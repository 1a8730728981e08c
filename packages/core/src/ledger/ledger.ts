import type { Store } from "../ports/store.js";
import type { LedgerDeps, PostJournalResult } from "./post-journal.js";
import { postJournal } from "./post-journal.js";
import type { AccountBalance, Journal, JournalInput } from "./types.js";

/** The ledger as a service over a store; every call is atomic on its own. */
export interface Ledger {
  /** Posts one journal; see {@link postJournal} for the idempotency rules. */
  post(input: JournalInput): Promise<PostJournalResult>;
  balance(account: string, currency: string): Promise<AccountBalance>;
  balances(query?: { accountPrefix?: string; currency?: string }): Promise<AccountBalance[]>;
  journal(reference: string): Promise<Journal | null>;
  journals(account: string, options?: { limit?: number; afterId?: string }): Promise<Journal[]>;
  /** Sum of all balances per currency: always zero in a consistent ledger. */
  trialBalance(): Promise<Map<string, bigint>>;
}

/**
 * Ledger-only operations through the store's transaction-free fast path (`store.ledger`). To post
 * a journal together with other state, use `postJournal(tx, …)` inside `store.transaction`.
 */
export function createLedger(store: Store, deps: LedgerDeps = {}): Ledger {
  return {
    post: (input) => postJournal(store, input, deps),
    balance: (account, currency) => store.ledger.getBalance(account, currency),
    balances: (query) => store.ledger.listBalances(query),
    journal: (reference) => store.ledger.getJournal(reference),
    journals: (account, options) => store.ledger.listJournals({ account, ...options }),
    trialBalance: async () => {
      const totals = new Map<string, bigint>();
      for (const row of await store.ledger.listBalances()) {
        totals.set(row.currency, (totals.get(row.currency) ?? 0n) + row.balance);
      }
      return totals;
    },
  };
}
