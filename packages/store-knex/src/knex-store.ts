import type { Store, StoreTx, TransactionOptions } from "@settlekit/core";
import { ErrorCodes, SettlekitError } from "@settlekit/core";
import type { Knex } from "knex";
import type { Dialect } from "./dialect.js";
import { detectDialect, sqlFor } from "./dialect.js";
import { migrationSource } from "./migrations/index.js";
import { knexIdempotencyKeys } from "./repositories/idempotency.js";
import { knexJobs } from "./repositories/jobs.js";
import type { ShardPolicy } from "./repositories/ledger.js";
import { knexLedger } from "./repositories/ledger.js";
import { knexOutbox } from "./repositories/outbox.js";
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
  /** Called before a transaction is run again after a transient conflict (for metrics and logs). */
  readonly onTransactionRetry?: (error: unknown, attempt: number) => void;
}

/** The default {@link KnexStoreOptions.balanceShards} policy. */
export const defaultBalanceShards: ShardPolicy = (account) =>
  /^(platform|psp|bank):/.test(account) ? 16 : 1;

/** Postgres deadlock / serialization failure; SQLite busy or locked. */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    code === "40P01" ||
    code === "40001" ||
    code === "SQLITE_BUSY" ||
    code === "SQLITE_BUSY_SNAPSHOT" ||
    code === "SQLITE_LOCKED"
  );
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface KnexStore extends Store {
  readonly dialect: Dialect;
  readonly knex: Knex;
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
  let prepared: Promise<void> | undefined;

  const repositories = (trx: Knex.Transaction): StoreTx => ({
    ledger: knexLedger(trx, sql, shards),
    outbox: knexOutbox(trx, sql),
    jobs: knexJobs(trx, sql),
    idempotencyKeys: knexIdempotencyKeys(trx, sql),
  });

  /** SQLite connection settings: WAL, a busy timeout instead of instant SQLITE_BUSY, FK checks. */
  const prepare = () => {
    if (dialect !== "sqlite") return Promise.resolve();
    prepared ??= (async () => {
      await knex.raw("PRAGMA busy_timeout = 10000");
      const [mode] = await knex.raw("PRAGMA journal_mode");
      if (mode?.journal_mode !== "memory") await knex.raw("PRAGMA journal_mode = WAL");
      await knex.raw("PRAGMA foreign_keys = ON");
    })();
    return prepared;
  };

  async function attempt<T>(fn: (tx: StoreTx) => Promise<T>, readOnly: boolean): Promise<T> {
    return knex.transaction(async (trx) => {
      // First statement a write: SQLite takes the write lock now, waiting (busy_timeout) if it
      // must, instead of failing later on a read→write upgrade that could deadlock.
      if (dialect === "sqlite" && !readOnly) await trx(TABLES.writeLock).where({ id: 1 }).increment("n", 1);
      return fn(repositories(trx));
    });
  }

  return {
    dialect,
    knex,
    async transaction(fn, txOptions: TransactionOptions = {}) {
      await prepare();
      for (let attemptNo = 1; ; attemptNo++) {
        try {
          return await attempt(fn, txOptions.readOnly === true);
        } catch (error) {
          if (!isTransient(error)) throw error;
          if (attemptNo >= maxAttempts) {
            throw new SettlekitError(
              ErrorCodes.STORE_CONFLICT,
              "The transaction kept conflicting; retry later.",
              {
                cause: error,
              },
            );
          }
          options.onTransactionRetry?.(error, attemptNo);
          await pause(Math.random() * 2 ** Math.min(attemptNo, 6));
        }
      }
    },
    async migrate() {
      await prepare();
      await knex.migrate.latest({ migrationSource, tableName: TABLES.migrations });
    },
    async migrateDown() {
      await knex.migrate.rollback({ migrationSource, tableName: TABLES.migrations }, true);
    },
  };
}
