import type { Store, StoreTx } from "../ports/store.js";
import type { LedgerDeps, PostJournalResult } from "./post-journal.js";
import { postJournal } from "./post-journal.js";
import type { AccountBalance, Journal, JournalInput } from "./types.js";

/** The ledger as a service over a store, each call in its own transaction. */
export interface Ledger {
  /** Posts one journal in its own transaction; see {@link postJournal} for the idempotency rules. */
  post(input: JournalInput): Promise<PostJournalResult>;
  balance(account: string, currency: string): Promise<AccountBalance>;
  balances(query?: { accountPrefix?: string; currency?: string }): Promise<AccountBalance[]>;
  journal(reference: string): Promise<Journal | null>;
  journals(account: string, options?: { limit?: number; afterId?: string }): Promise<Journal[]>;
  /** Sum of all balances per currency: always zero in a consistent ledger. */
  trialBalance(): Promise<Map<string, bigint>>;
}

export function createLedger(store: Store, deps: LedgerDeps = {}): Ledger {
  const read = <T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> => store.transaction(fn, { readOnly: true });
  return {
    post: (input) => store.transaction((tx) => postJournal(tx, input, deps)),
    balance: (account, currency) => read((tx) => tx.ledger.getBalance(account, currency)),
    balances: (query) => read((tx) => tx.ledger.listBalances(query)),
    journal: (reference) => read((tx) => tx.ledger.getJournal(reference)),
    journals: (account, options) => read((tx) => tx.ledger.listJournals({ account, ...options })),
    trialBalance: async () => {
      const totals = new Map<string, bigint>();
      for (const row of await read((tx) => tx.ledger.listBalances())) {
        totals.set(row.currency, (totals.get(row.currency) ?? 0n) + row.balance);
      }
      return totals;
    },
  };
}
