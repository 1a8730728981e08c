import type { Store, StoreHealth, StoreTx, TransactionOptions } from "@settlekit/core";
import { ErrorCodes, SettlekitError } from "@settlekit/core";
import type { Knex } from "knex";
import type { Dialect } from "./dialect.js";
import { openDialect } from "./dialects/index.js";
import type { SqliteSynchronous } from "./dialects/sqlite/connection.js";
import { migrationSource } from "./migrations/index.js";
import type { ShardPolicy } from "./repositories/balance-rows.js";
import { knexDailyTasks } from "./repositories/daily-tasks.js";
import { knexDisputes } from "./repositories/disputes.js";
import { knexIdempotencyKeys } from "./repositories/idempotency.js";
import { knexJobs } from "./repositories/jobs.js";
import { knexLedger } from "./repositories/ledger.js";
import { knexOutbox } from "./repositories/outbox.js";
import { knexPaymentAttempts } from "./repositories/payment-attempts.js";
import { knexPaymentOrders } from "./repositories/payment-orders.js";
import { knexPayments } from "./repositories/payments.js";
import { knexPayouts, knexSellerPayoutAccounts } from "./repositories/payouts.js";
import { knexReconciliation } from "./repositories/reconciliation.js";
import { withBulkReconciliation } from "./repositories/reconciliation-bulk.js";
import { knexRefunds } from "./repositories/refunds.js";
import { knexWebhookEvents } from "./repositories/webhook-events.js";
import { guarded, guardMethods, isUnavailable, storeError } from "./store-errors.js";
import { TABLES } from "./tables.js";

export interface KnexStoreOptions {
  /**
   * Balance rows per account. Accounts every payment touches (platform fees, PSP receivables)
   * would serialise all writers on one row lock; splitting them into K rows lets K writers
   * proceed at once, and reads sum the rows. Default: 16 for `platform:`, `psp:` and `bank:`
   * accounts, 1 for the rest (seller accounts are not shared by concurrent payments).
   */
  readonly balanceShards?: ShardPolicy;
  /** Attempts of a transaction that hits a deadlock, serialization failure or busy database (default 8). */
  readonly maxTransactionAttempts?: number;
  /** Called before a transaction is run again after a transient conflict or outage (for metrics and logs). */
  readonly onTransactionRetry?: (error: unknown, attempt: number) => void;
  /**
   * How long a transaction keeps being retried, with backoff, while the database is unavailable
   * (default 0: it fails at once with `STORE_UNAVAILABLE`). Meant for a replicated Postgres behind
   * a proxy or DNS name that a failover moves: set it to how long your failover takes (e.g.
   * 30 000) and a request waits for the new primary instead of failing. Retried: connections
   * refused, reset or terminated, `57P01`–`57P03` (admin shutdown, crash, starting up),
   * `25006` (a read-only server: a standby), class `08` (connection exceptions), a pool that
   * cannot connect. A transaction runs again only as a whole, and only when the failure came
   * before its COMMIT was sent (or it is read-only); a connection that broke during COMMIT is
   * `STORE_COMMIT_UNKNOWN`, never re-run. Journal posts outside transactions (`store.ledger`) are
   * retried either way: they are idempotent by reference. The bound is checked between attempts,
   * so a call may take up to this plus one attempt (bounded by knex's `acquireConnectionTimeout`).
   * Postgres only: ignored on SQLite.
   */
  readonly failoverRetryMs?: number;
  /** How long `health()` waits for the database before it reports it unreachable (default 2 000). */
  readonly healthTimeoutMs?: number;
  /**
   * SQLite durability (default `full`: every commit is synced, a committed payment survives power
   * loss). `normal` syncs at WAL checkpoints only: faster, but the last commits may be lost on
   * power loss (never corrupted).
   */
  readonly sqliteSynchronous?: SqliteSynchronous;
}

/** The default {@link KnexStoreOptions.balanceShards} policy. */
export const defaultBalanceShards: ShardPolicy = (account) =>
  /^(platform|psp|bank):/.test(account) ? 16 : 1;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface KnexStore extends Store {
  readonly dialect: Dialect;
  readonly knex: Knex;
  /**
   * Resolves when every migration this version ships has been applied; otherwise throws
   * `STORE_NOT_MIGRATED` naming what is missing (`STORE_UNAVAILABLE` when the database cannot be
   * reached). Reads only: cheap enough for a start-up check.
   */
  assertMigrated(): Promise<void>;
  health(): Promise<StoreHealth>;
}

/**
 * The settlekit `Store` over a knex instance the host created and owns (the host destroys it).
 *
 * ```ts
 * const store = knexStore(knex({ client: "better-sqlite3", connection: { filename: "shop.db" }, useNullAsDefault: true }));
 * await store.migrate();
 * ```
 */
export function knexStore(knex: Knex, options: KnexStoreOptions = {}): KnexStore {
  const dialect = openDialect(knex, {
    shards: options.balanceShards ?? defaultBalanceShards,
    sqliteSynchronous: options.sqliteSynchronous ?? "full",
  });
  const sql = dialect.adapter;
  const maxAttempts = options.maxTransactionAttempts ?? 8;
  // A server behind a failover only: SQLite is one local file, and a COMMIT that failed on it
  // (an fsync error) is not something to wait out.
  const failoverRetryMs = sql.dialect === "postgres" ? (options.failoverRetryMs ?? 0) : 0;
  const healthTimeoutMs = options.healthTimeoutMs ?? 2_000;

  /**
   * Runs `work` again on transient conflicts, a bounded number of times, and while the database
   * is unavailable, for at most `failoverRetryMs`.
   */
  async function withRetries<T>(work: () => Promise<T>): Promise<T> {
    let outages = 0;
    let outageSince = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (failoverRetryMs > 0 && isUnavailable(error)) {
          const now = performance.now();
          if (outages++ === 0) outageSince = now;
          const left = failoverRetryMs - (now - outageSince);
          if (left <= 0) throw error;
          options.onTransactionRetry?.(error, attempt);
          // 50 ms doubling to 1 s, jittered so that a pool's worth of callers do not reconnect in step.
          const delay = Math.min(1_000, 50 * 2 ** Math.min(outages - 1, 5)) * (0.5 + Math.random() / 2);
          await pause(Math.min(delay, left));
          continue;
        }
        if (!dialect.isTransient(error)) throw error;
        if (attempt >= maxAttempts) {
          throw new SettlekitError(
            ErrorCodes.STORE_CONFLICT,
            "The transaction kept conflicting; retry later.",
            {
              cause: error,
            },
          );
        }
        options.onTransactionRetry?.(error, attempt);
        await pause(Math.random() * 2 ** Math.min(attempt, 6));
      }
    }
  }

  const repositories = (trx: Knex.Transaction): StoreTx => ({
    payments: knexPayments(trx, sql),
    paymentOrders: knexPaymentOrders(trx, sql),
    paymentAttempts: knexPaymentAttempts(trx, sql),
    refunds: knexRefunds(trx, sql),
    disputes: knexDisputes(trx, sql),
    webhookEvents: knexWebhookEvents(trx, sql),
    ledger: knexLedger(trx, sql, dialect.journalInsert(trx)),
    outbox: knexOutbox(trx, sql),
    jobs: knexJobs(trx, sql),
    idempotencyKeys: knexIdempotencyKeys(trx, sql),
    payouts: knexPayouts(trx, sql),
    sellerPayoutAccounts: knexSellerPayoutAccounts(trx, sql),
    dailyTasks: knexDailyTasks(trx, sql),
    reconciliation: withBulkReconciliation(knexReconciliation(trx, sql), trx, sql),
  });
  const transaction = dialect.transactions(repositories, withRetries);

  async function health(): Promise<StoreHealth> {
    const start = performance.now();
    const latencyMs = () => Math.round((performance.now() - start) * 10) / 10;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the database did not answer within ${healthTimeoutMs} ms`)),
        healthTimeoutMs,
      );
    });
    try {
      const found = await Promise.race([dialect.health(), timeout]);
      return { ...found, latencyMs: latencyMs() };
    } catch (error) {
      const typed = storeError(error);
      const code = (typed as { details?: { driverCode?: unknown } }).details?.driverCode;
      const reason =
        typed instanceof SettlekitError
          ? `${typed.code}${typeof code === "string" ? ` (${code})` : ""}`
          : (error as Error).message;
      // A connection refused by `requirePrimary` met a server that answered: a standby or read-only one.
      const reachable = code === "25006";
      return { reachable, writable: false, latencyMs: latencyMs(), replication: null, reason };
    } finally {
      clearTimeout(timer);
    }
  }
  // Outside transactions, journal posts are group-committed.
  const autocommitLedger = guardMethods(knexLedger(knex, sql, dialect.autocommitJournalInsert(withRetries)));

  return {
    dialect: sql.dialect,
    knex,
    ledger: autocommitLedger,
    // Driver failures leave as typed errors (store-errors.ts); the callbacks' own errors as they are.
    transaction: (fn, txOptions: TransactionOptions = {}) =>
      guarded(() => transaction(fn, txOptions.readOnly === true)),
    health,
    migrate: () =>
      guarded(async () => {
        await dialect.ready();
        await knex.migrate.latest({ migrationSource, tableName: TABLES.migrations });
      }),
    migrateDown: () =>
      guarded(async () => {
        await knex.migrate.rollback({ migrationSource, tableName: TABLES.migrations }, true);
      }),
    assertMigrated: () =>
      guarded(async () => {
        await dialect.ready();
        const shipped = await migrationSource.getMigrations([]);
        const applied = (await knex.schema.hasTable(TABLES.migrations))
          ? new Set((await knex(TABLES.migrations).select<{ name: string }[]>("name")).map((r) => r.name))
          : new Set<string>();
        const missing = shipped.filter((name) => !applied.has(name));
        if (missing.length > 0) {
          throw new SettlekitError(
            ErrorCodes.STORE_NOT_MIGRATED,
            `${missing.length} of settlekit's ${shipped.length} migrations are not applied to this database (${missing.join(", ")}): run store.migrate() before using the store.`,
            { details: { missing } },
          );
        }
      }),
  };
}
