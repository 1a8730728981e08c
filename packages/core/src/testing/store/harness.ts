import type { Store } from "../../ports/store.js";

/** Tables (or collections) a store adapter keeps, named by what they hold. */
export type StoreTable =
  | "journals"
  | "postings"
  | "balance_rows"
  | "outbox"
  | "jobs"
  | "idempotency_keys"
  | "payments"
  | "payment_orders"
  | "refunds"
  | "webhook_events"
  | "payment_attempts"
  | "disputes"
  | "payouts"
  | "payout_lines"
  | "seller_payout_accounts"
  | "daily_task_runs"
  | "reconciliation_runs"
  | "reconciliation_items";

/**
 * Raw read-back that bypasses the adapter's repositories, so the suite checks what was really
 * written, not only what the adapter says it wrote.
 */
export interface StoreInspector {
  /** Number of rows in a table. */
  count(table: StoreTable): Promise<number>;
  /** The raw balance rows of one account (a hot account has several). */
  balanceRows(account: string, currency: string): Promise<{ debits: bigint; credits: bigint }[]>;
}

export interface StoreHarness {
  /** A migrated store with no data in it. */
  readonly store: Store;
  readonly inspect: StoreInspector;
  /** Called after each test. */
  cleanup(): Promise<void>;
}

export interface StoreConformanceOptions {
  /** Shown in the test names, e.g. `knex/postgres`. */
  readonly name: string;
  /** Returns a fresh, empty, migrated store for one test. */
  readonly makeStore: () => Promise<StoreHarness>;
  /**
   * An account address the adapter was configured to split into several balance rows (a hot
   * account). The suite checks that concurrent postings spread over more than one row.
   */
  readonly hotAccount?: string;
  /** fast-check runs of the ledger property tests (default 50). */
  readonly propertyRuns?: number;
  /** Concurrent callers in the concurrency tests (default 64). */
  readonly concurrency?: number;
}
