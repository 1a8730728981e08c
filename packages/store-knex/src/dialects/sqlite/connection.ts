import type { Knex } from "knex";
import { stopBeforeDestroy } from "../../library-patches.js";
import { startCheckpointer } from "./checkpointer.js";
import { prepared } from "./exec.js";
import type { SqliteDatabase } from "./types.js";

export type { SqliteDatabase, SqliteStatement, SqliteTransaction } from "./types.js";

export type SqliteSynchronous = "full" | "normal";

/**
 * Per-connection SQLite settings, applied to each connection the first time settlekit sees it
 * (a pool may replace connections, so settling them once per store is not enough): WAL, a busy
 * timeout (wait for the write lock instead of failing at once), foreign keys, and the durability
 * level. `full` syncs the WAL on every commit, so a committed payment survives power loss;
 * better-sqlite3's compiled-in default for WAL is `normal`, which may lose the last commits.
 */
export function sqliteConnections(knex: Knex, synchronous: SqliteSynchronous) {
  const ready = new WeakSet<object>();
  let stopCheckpointer: (() => Promise<void>) | undefined;
  const settle = (db: SqliteDatabase) => {
    if (ready.has(db) || db.inTransaction) return;
    db.pragma("busy_timeout = 10000");
    db.pragma("foreign_keys = ON");
    if (!db.memory) db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${synchronous.toUpperCase()}`);
    if (!db.memory) {
      // Checkpoints run on a background thread; 10 000 pages (~40 MB of WAL) is only a backstop.
      db.pragma("wal_autocheckpoint = 10000");
      if (!stopCheckpointer) {
        const stop = startCheckpointer(db.name, (knex.client as { driver?: unknown }).driver);
        stopCheckpointer = stop;
        // The thread closes its connection first; knex's then is the last, which checkpoints
        // and removes the WAL files as SQLite does on a clean close.
        stopBeforeDestroy(knex, stop);
      }
    }
    ready.add(db);
  };
  return {
    /** Runs `fn` on a connection borrowed from knex's pool, settled first. */
    async use<T>(fn: (db: SqliteDatabase) => T | Promise<T>): Promise<T> {
      const db: SqliteDatabase = await knex.client.acquireConnection();
      try {
        // Borrowed from the pool, the connection is ours alone: a transaction open on it is one a
        // failed COMMIT left behind (SQLite keeps it open on some errors; knex does not end it).
        if (db.inTransaction) prepared(db, "ROLLBACK").run();
        settle(db);
        return await fn(db);
      } finally {
        await knex.client.releaseConnection(db);
      }
    },
  };
}
