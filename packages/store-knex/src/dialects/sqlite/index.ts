import type { StoreTx } from "@settlekit/core";
import type { Knex } from "knex";
import type { DialectContext, SqlAdapter, StoreDialect } from "../../dialect.js";
import { TABLES } from "../../tables.js";
import { assertOpen, commonAdapter } from "../common.js";
import type { SqliteSynchronous } from "./connection.js";
import { sqliteConnections } from "./connection.js";
import { prepared, sqliteExec } from "./exec.js";
import { sqliteJournalWriter, sqliteTxInsert } from "./journal.js";
import { transactionBatches } from "./transaction-batches.js";
import type { SqliteDatabase } from "./types.js";

/** Busy or locked database file. */
const TRANSIENT = new Set(["SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_LOCKED"]);

/** The first statement of a write transaction: takes SQLite's write lock at once. */
const TAKE_WRITE_LOCK = `UPDATE ${TABLES.writeLock} SET n = n + 1 WHERE id = 1`;

/**
 * SQLite through better-sqlite3: bigints bound natively, instants as epoch milliseconds, no row
 * locks (a write transaction takes the database's write lock first), write transactions
 * group-committed in savepoints of one physical transaction, statements prepared once per
 * connection, a checkpoint thread for files.
 */
export function sqliteDialect(
  { knex, shards }: DialectContext,
  synchronous: SqliteSynchronous,
): StoreDialect {
  const connections = sqliteConnections(knex, synchronous);
  const adapter: SqlAdapter = {
    dialect: "sqlite",
    ...commonAdapter(knex),
    // better-sqlite3 binds bigint natively (knex's types do not know it).
    int: (value) => value as unknown as Knex.Value,
    time: (value) => value.getTime(),
    lockText: (text) => text,
    keyLockText: undefined,
    lock: (query) => query,
    claimable: (query) => query,
    claimableText: (text) => text,
    combinesUpdates: false,
    exec: sqliteExec,
  };
  /** Settles the connection's pragmas (and ends a transaction a failed COMMIT left open). */
  const ready = () => connections.use(() => undefined);

  /** Answers a read; writable unless opened read-only or `query_only`. Embedded: no replication. */
  const health = () =>
    connections.use((db) => {
      prepared(db, "SELECT 1").get();
      const queryOnly = Number(db.pragma("query_only", { simple: true })) === 1;
      const writable = !db.readonly && !queryOnly;
      return {
        reachable: true,
        writable,
        replication: null,
        ...(writable ? {} : { reason: "the SQLite database is open read-only" }),
      };
    });

  /** One physical transaction. */
  async function attempt<T>(fn: (trx: Knex.Transaction) => Promise<T>, readOnly: boolean): Promise<T> {
    await ready();
    let failed: { error: unknown } | undefined;
    try {
      return await knex.transaction(async (trx) => {
        try {
          // First statement a write: SQLite takes the write lock now, waiting (busy_timeout) if it
          // must, instead of failing later on a read→write upgrade that could deadlock.
          if (!readOnly) await adapter.exec(trx).run(TAKE_WRITE_LOCK, []);
          return await fn(trx);
        } catch (error) {
          failed = { error };
          throw error;
        }
      });
    } catch (error) {
      // A COMMIT that failed (disk full, I/O error) can leave SQLite's transaction open: `ready`
      // ends it before anyone else gets the connection.
      await ready().catch(() => undefined);
      // When SQLite already rolled back on its own (disk full), knex's ROLLBACK fails too ("no
      // transaction is active"): the caller gets the error that caused it, not that one.
      const rollbackFailed = /no transaction is active/.test(String((error as Error | null)?.message));
      throw failed && rollbackFailed ? failed.error : error;
    }
  }

  return {
    adapter,
    isTransient: (error) => TRANSIENT.has(String((error as { code?: unknown } | null)?.code)),
    ready,
    health,
    journalInsert: (trx) => sqliteTxInsert(trx, adapter, shards),
    autocommitJournalInsert(retry) {
      // Group commit outside transactions: one IMMEDIATE transaction per group.
      const write = sqliteJournalWriter((fn) => connections.use(fn), shards);
      return (journal) => retry(() => write(journal));
    },
    transactions(repositories, retry) {
      // Writers: group commit of whole transactions (see transactionBatches).
      const write = transactionBatches<Knex.Transaction, StoreTx>(
        (body) =>
          retry(() =>
            attempt(async (trx) => {
              // Savepoints straight on the connection, prepared once (never past the transaction's end).
              const connection: SqliteDatabase = await (trx.client as Knex.Client).acquireConnection();
              return body(trx, {
                raw: (text) => {
                  assertOpen(trx);
                  return prepared(connection, text).run();
                },
              });
            }, false),
          ),
        repositories,
      );
      return (fn, readOnly) =>
        readOnly ? retry(() => attempt((trx) => fn(repositories(trx)), true)) : write(fn);
    },
  };
}
