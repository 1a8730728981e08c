import type { Store, StoreTx, TransactionOptions } from "@settlekit/core";
import { ErrorCodes, SettlekitError } from "@settlekit/core";
import type { Knex } from "knex";
import type { Dialect } from "./dialect.js";
import { detectDialect, sqlFor } from "./dialect.js";
import { withDeferredInserts } from "./exec.js";
import { migrationSource } from "./migrations/index.js";
import { nameStatements } from "./pg-statement-names.js";
import type { ShardPolicy } from "./repositories/balance-rows.js";
import { knexDisputes } from "./repositories/disputes.js";
import { knexIdempotencyKeys } from "./repositories/idempotency.js";
import { knexJobs } from "./repositories/jobs.js";
import type { JournalInsert } from "./repositories/ledger.js";
import { knexLedger, sqliteTxInsert } from "./repositories/ledger.js";
import { knexOutbox } from "./repositories/outbox.js";
import { knexPaymentAttempts } from "./repositories/payment-attempts.js";
import { knexPaymentOrders } from "./repositories/payment-orders.js";
import { knexPayments } from "./repositories/payments.js";
import { insertJournalPostgres, postgresJournalWriter } from "./repositories/postgres-journal-insert.js";
import { knexRefunds } from "./repositories/refunds.js";
import { sqliteJournalWriter } from "./repositories/sqlite-journal-writer.js";
import { knexWebhookEvents } from "./repositories/webhook-events.js";
import type { SqliteDatabase, SqliteSynchronous } from "./sqlite-connection.js";
import { sqliteConnections } from "./sqlite-connection.js";
import { guarded, guardMethods } from "./store-errors.js";
import { TABLES } from "./tables.js";
import { transactionBatches } from "./transaction-batches.js";

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
  /** Called before a transaction is run again after a transient conflict (for metrics and logs). */
  readonly onTransactionRetry?: (error: unknown, attempt: number) => void;
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

/** Postgres deadlock / serialization failure; SQLite busy or locked. */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return ["40P01", "40001", "SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_LOCKED"].includes(String(code));
}

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
  const dialect = detectDialect(knex);
  const sql = sqlFor(knex, dialect);
  const shards = options.balanceShards ?? defaultBalanceShards;
  const maxAttempts = options.maxTransactionAttempts ?? 8;
  const sqlite =
    dialect === "sqlite" ? sqliteConnections(knex, options.sqliteSynchronous ?? "full") : undefined;

  /** Runs `work` again on transient conflicts, a bounded number of times. */
  async function withRetries<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (!isTransient(error)) throw error;
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
    ledger: knexLedger(
      trx,
      sql,
      sqlite ? sqliteTxInsert(trx, sql, shards) : (journal) => insertJournalPostgres(trx, journal, shards),
    ),
    outbox: knexOutbox(trx, sql),
    jobs: knexJobs(trx, sql),
    idempotencyKeys: knexIdempotencyKeys(trx, sql),
  });

  // Outside transactions: group commit (one statement per group on Postgres, one IMMEDIATE
  // transaction per group on SQLite).
  const autocommitInsert: JournalInsert = sqlite
    ? sqliteJournalWriter((fn) => sqlite.use(fn), shards)
    : postgresJournalWriter(knex, shards, isTransient);
  const autocommitLedger = guardMethods(
    knexLedger(knex, sql, (journal) => withRetries(() => autocommitInsert(journal))),
  );

  async function attempt<T>(
    fn: (tx: StoreTx, trx: Knex.Transaction) => Promise<T>,
    readOnly: boolean,
  ): Promise<T> {
    if (sqlite) await sqlite.use(() => undefined); // settle the connection's pragmas first
    let failed: { error: unknown } | undefined;
    try {
      return await knex.transaction(async (trx) => {
        try {
          // First statement a write: SQLite takes the write lock now, waiting (busy_timeout) if it
          // must, instead of failing later on a read→write upgrade that could deadlock.
          if (sqlite && !readOnly) await trx(TABLES.writeLock).where({ id: 1 }).increment("n", 1);
          if (sqlite) return await fn(repositories(trx), trx);
          nameStatements(await (trx.client as Knex.Client).acquireConnection());
          return await withDeferredInserts(trx, () => fn(repositories(trx), trx));
        } catch (error) {
          failed = { error };
          throw error;
        }
      });
    } catch (error) {
      // A COMMIT that failed (disk full, I/O error) can leave SQLite's transaction open: `use`
      // ends it before anyone else gets the connection.
      if (sqlite) await sqlite.use(() => undefined).catch(() => undefined);
      // When SQLite already rolled back on its own (disk full), knex's ROLLBACK fails too ("no
      // transaction is active"): the caller gets the error that caused it, not that one.
      const rollbackFailed = /no transaction is active/.test(String((error as Error | null)?.message));
      throw failed && rollbackFailed ? failed.error : error;
    }
  }

  // SQLite writers: group commit of whole transactions (see transactionBatches).
  const sqliteWrite = sqlite
    ? transactionBatches<Knex.Transaction, StoreTx>(
        (body) =>
          withRetries(() =>
            attempt(async (_tx, trx) => {
              // Savepoints straight on the connection (prepared once: cachePreparedStatements).
              const connection: SqliteDatabase = await (trx.client as Knex.Client).acquireConnection();
              return body(trx, { raw: (text) => connection.prepare(text).run() });
            }, false),
          ),
        repositories,
      )
    : undefined;

  return {
    dialect,
    knex,
    ledger: autocommitLedger,
    // Driver failures leave as typed errors (store-errors.ts); the callbacks' own errors as they are.
    transaction: (fn, txOptions: TransactionOptions = {}) => {
      const readOnly = txOptions.readOnly === true;
      if (sqliteWrite && !readOnly) return guarded(() => sqliteWrite(fn));
      return guarded(() => withRetries(() => attempt(fn, readOnly)));
    },
    migrate: () =>
      guarded(async () => {
        if (sqlite) await sqlite.use(() => undefined);
        await knex.migrate.latest({ migrationSource, tableName: TABLES.migrations });
      }),
    migrateDown: () =>
      guarded(async () => {
        await knex.migrate.rollback({ migrationSource, tableName: TABLES.migrations }, true);
      }),
    assertMigrated: () =>
      guarded(async () => {
        if (sqlite) await sqlite.use(() => undefined);
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
