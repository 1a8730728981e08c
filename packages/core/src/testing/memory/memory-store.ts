import { ErrorCodes, SettlekitError } from "../../errors.js";
import type { LedgerRepository } from "../../ports/ledger.js";
import type { Store, StoreHealth, StoreTx, TransactionOptions } from "../../ports/store.js";
import type { StoreInspector, StoreTable } from "../store/harness.js";
import { memoryDailyTasks } from "./daily-tasks.js";
import { memoryIdempotencyKeys } from "./idempotency.js";
import type { BalanceShards } from "./ledger.js";
import { memoryLedger } from "./ledger.js";
import {
  memoryDisputes,
  memoryPaymentAttempts,
  memoryRefunds,
  memoryWebhookEvents,
} from "./payment-records.js";
import { memoryPaymentOrders, memoryPayments } from "./payments.js";
import { memoryPayouts, memorySellerPayoutAccounts } from "./payouts.js";
import { memoryReconciliation } from "./reconciliation.js";
import type { MemoryState, Sequences, TableName } from "./state.js";
import { emptyState, Working } from "./state.js";
import { memoryJobs, memoryOutbox } from "./workers.js";

export interface MemoryStoreOptions {
  /**
   * Balance rows per account, as `knexStore`'s option of the same name (default: 16 for
   * `platform:`, `psp:` and `bank:` accounts, 1 for the rest). Reads sum them either way.
   */
  readonly balanceShards?: BalanceShards;
  /** Start migrated (default `true`); `false` behaves like an empty database before `migrate()`. */
  readonly migrated?: boolean;
  /**
   * How long a writer waits for its turn before it fails with `STORE_CONFLICT` (default 10 s),
   * like a database's lock timeout: a transaction opened from inside another one's callback can
   * never get its turn, and this bound makes it fail instead of waiting forever.
   */
  readonly lockTimeoutMs?: number;
}

export interface MemoryStore extends Store {
  readonly dialect: "memory";
  assertMigrated(): Promise<void>;
  health(): Promise<StoreHealth>;
  /** Raw read-back of the committed state, for the conformance suite and tests. */
  readonly inspect: StoreInspector;
}

const defaultShards: BalanceShards = (account) => (/^(platform|psp|bank):/.test(account) ? 16 : 1);

const TABLE_OF: Record<Exclude<StoreTable, "postings">, TableName> = {
  journals: "journals",
  balance_rows: "balanceRows",
  outbox: "outbox",
  jobs: "jobs",
  idempotency_keys: "idempotencyKeys",
  payments: "payments",
  payment_orders: "paymentOrders",
  refunds: "refunds",
  webhook_events: "webhookEvents",
  payment_attempts: "paymentAttempts",
  disputes: "disputes",
  payouts: "payouts",
  payout_lines: "payoutLines",
  seller_payout_accounts: "sellerPayoutAccounts",
  daily_task_runs: "dailyTaskRuns",
  reconciliation_runs: "reconciliationRuns",
  reconciliation_items: "reconciliationItems",
};

/**
 * The `Store` port in memory, for tests: it passes the whole `runStoreConformance` suite.
 *
 * - Transactions are serializable: writers run one at a time (in call order) on a copy-on-write
 *   view of the state that replaces it on commit and is dropped when the callback throws, so a
 *   failed transaction leaves nothing behind. Read-only transactions run at once on the snapshot
 *   committed when they start, and refuse writes. With no concurrent writers there is never a
 *   transient conflict, so nothing is retried.
 * - Records are copied on the way in and out (callers never share an object with the store);
 *   JSON columns go through JSON as in a database; unique keys, foreign keys and
 *   compare-and-set on `version` are enforced as the SQL schema does (`STORE_ERROR` on a
 *   violation).
 * - As with an embedded single-connection database, calling `store.transaction` or
 *   `store.ledger` from inside a transaction callback cannot get the write lock: it fails with
 *   `STORE_CONFLICT` after `lockTimeoutMs`, as does any writer that waited that long. A
 *   `StoreTx` used after its callback ended throws.
 *
 * ```ts
 * const store = memoryStore();
 * const system = createPaymentSystem({ store, provider, clock: manualClock(new Date()) });
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const shards = options.balanceShards ?? defaultShards;
  let state: MemoryState = emptyState();
  let migrated = options.migrated ?? true;
  let counter = 0;
  const seq: Sequences = { next: () => ++counter };
  let shardCounter = 0;
  const nextShard = () => shardCounter++;

  // The writers' queue: each waits for the one before it (a rejection does not break the chain),
  // at most `lockTimeoutMs`; one that gave up never runs, and the next still waits its turn.
  const lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const previous = tail;
    const run = new Promise<T>((resolve, reject) => {
      let gaveUp = false;
      const timer = setTimeout(() => {
        gaveUp = true;
        reject(
          new SettlekitError(
            ErrorCodes.STORE_CONFLICT,
            `Waited ${lockTimeoutMs} ms for the memory store's write lock (a transaction opened inside another's callback?); retry.`,
          ),
        );
      }, lockTimeoutMs);
      void previous.then(() => {
        clearTimeout(timer);
        if (!gaveUp) work().then(resolve, reject);
      });
    });
    tail = previous.then(() => run).catch(() => undefined);
    return run;
  };

  const assertMigrated = () => {
    if (!migrated) {
      throw new SettlekitError(
        ErrorCodes.STORE_NOT_MIGRATED,
        "settlekit's tables are missing from this memory store: run store.migrate() before using the store.",
      );
    }
  };

  const repositories = (w: Working): StoreTx => ({
    payments: memoryPayments(w, seq),
    paymentOrders: memoryPaymentOrders(w, seq),
    paymentAttempts: memoryPaymentAttempts(w, seq),
    refunds: memoryRefunds(w, seq),
    disputes: memoryDisputes(w, seq),
    webhookEvents: memoryWebhookEvents(w, seq),
    ledger: memoryLedger(w, seq, shards, nextShard),
    idempotencyKeys: memoryIdempotencyKeys(w, seq),
    outbox: memoryOutbox(w, seq),
    jobs: memoryJobs(w, seq),
    payouts: memoryPayouts(w, seq),
    sellerPayoutAccounts: memorySellerPayoutAccounts(w, seq),
    dailyTasks: memoryDailyTasks(w, seq),
    reconciliation: memoryReconciliation(w, seq),
  });

  async function transaction<T>(fn: (tx: StoreTx) => Promise<T>, txOptions: TransactionOptions = {}) {
    if (txOptions.readOnly === true) {
      assertMigrated();
      const w = new Working(state, false);
      try {
        return await fn(repositories(w));
      } finally {
        w.close();
      }
    }
    return exclusive(async () => {
      assertMigrated();
      const w = new Working(state, true);
      try {
        const value = await fn(repositories(w));
        state = w.commit();
        return value;
      } finally {
        w.close();
      }
    });
  }

  // Outside transactions each call is atomic on its own: a one-call transaction.
  const ledger: LedgerRepository = {
    insertJournal: (journal) => transaction((tx) => tx.ledger.insertJournal(journal)),
    getJournal: (reference) => transaction((tx) => tx.ledger.getJournal(reference), { readOnly: true }),
    listJournals: (query) => transaction((tx) => tx.ledger.listJournals(query), { readOnly: true }),
    getBalance: (account, currency) =>
      transaction((tx) => tx.ledger.getBalance(account, currency), { readOnly: true }),
    listBalances: (query) => transaction((tx) => tx.ledger.listBalances(query), { readOnly: true }),
  };

  const inspect: StoreInspector = {
    async count(table) {
      if (table === "postings")
        return [...state.journals.values()].reduce((n, r) => n + r.value.postings.length, 0);
      return state[TABLE_OF[table]].size;
    },
    async balanceRows(account, currency) {
      return [...state.balanceRows.values()]
        .filter((r) => r.account === account && r.currency === currency)
        .sort((a, b) => a.shard - b.shard)
        .map((r) => ({ debits: r.debits, credits: r.credits }));
    },
  };

  return {
    dialect: "memory",
    ledger,
    transaction,
    inspect,
    migrate: () =>
      exclusive(async () => {
        migrated = true;
      }),
    migrateDown: () =>
      exclusive(async () => {
        state = emptyState();
        migrated = false;
      }),
    assertMigrated: async () => assertMigrated(),
    // Always there and writable (before `migrate()` too: the database is up, only empty).
    health: async () => ({ reachable: true, writable: true, latencyMs: 0, replication: null }),
  };
}
