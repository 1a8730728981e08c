import type { Knex } from "knex";
import { startCheckpointer } from "./sqlite-checkpointer.js";
import type { WalSync } from "./sqlite-wal-sync.js";
import { walFile, walSync } from "./sqlite-wal-sync.js";
import { cachePreparedStatements } from "./statement-cache.js";

/** The slice of a better-sqlite3 `Database` settlekit uses. */
export interface SqliteDatabase {
  readonly memory: boolean;
  /** The database file's path. */
  readonly name: string;
  readonly inTransaction: boolean;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  prepare: (sql: string) => SqliteStatement;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): SqliteTransaction<A, R>;
}

export interface SqliteStatement {
  run(...params: unknown[]): { changes: number };
  all(...params: unknown[]): unknown[];
  get(...params: unknown[]): unknown;
  safeIntegers(toggle?: boolean): SqliteStatement;
}

export interface SqliteTransaction<A extends unknown[], R> {
  (...args: A): R;
  immediate(...args: A): R;
}

export type SqliteSynchronous = "full" | "normal";

/** A write's result, and when it is durable. */
export interface Written<T> {
  readonly value: T;
  /** Resolves once the write survives power loss (at once unless synced in the background). */
  readonly durable: Promise<void>;
}

/**
 * Per-connection SQLite settings, applied to each connection the first time settlekit sees it
 * (a pool may replace connections, so settling them once per store is not enough): WAL, a busy
 * timeout (wait for the write lock instead of failing at once), foreign keys, and the durability
 * level. `full` syncs the WAL on every commit, so a committed payment survives power loss;
 * better-sqlite3's compiled-in default for WAL is `normal`, which may lose the last commits.
 * Also gives the connection a prepared-statement cache (see `cachePreparedStatements`).
 */
export function sqliteConnections(knex: Knex, synchronous: SqliteSynchronous, backgroundSync = true) {
  const ready = new WeakSet<object>();
  let wal: { readonly db: SqliteDatabase; readonly sync: WalSync } | undefined;
  /** Syncs of replaced connections, until their last sync has ended and their file is closed. */
  const retiring = new Set<WalSync>();
  const retire = (sync: WalSync) => {
    retiring.add(sync);
    return sync.close().finally(() => retiring.delete(sync));
  };
  /** The background sync for `db`'s WAL, when commits on it are synced in the background. */
  const walOf = (db: SqliteDatabase): WalSync | undefined => {
    if (!backgroundSync || synchronous !== "full" || db.memory) return undefined;
    if (wal?.db !== db) {
      // A new connection (the pool replaced one) may write a new WAL file: sync that one.
      if (wal) void retire(wal.sync);
      wal = { db, sync: walSync(walFile(`${db.name}-wal`)) };
    }
    return wal.sync;
  };
  const closeWal = async () => {
    if (wal) void retire(wal.sync);
    wal = undefined;
    await Promise.all([...retiring].map((sync) => sync.close()));
  };
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
        stopCheckpointer = startCheckpointer(db.name, (knex.client as { driver?: unknown }).driver);
        const destroy = knex.client.destroy.bind(knex.client);
        knex.client.destroy = async (...args: unknown[]) => {
          // The thread closes its connection first; knex's then is the last, which checkpoints
          // and removes the WAL files as SQLite does on a clean close.
          await stopCheckpointer?.();
          await closeWal();
          return destroy(...args);
        };
      }
    }
    const options = (knex.client as { connectionSettings?: { options?: { safeIntegers?: boolean } } })
      .connectionSettings?.options;
    cachePreparedStatements(db, options?.safeIntegers === true);
    ready.add(db);
  };
  return {
    /** Runs `fn` on a connection borrowed from knex's pool, settled first. */
    async use<T>(fn: (db: SqliteDatabase) => T | Promise<T>): Promise<T> {
      const db: SqliteDatabase = await knex.client.acquireConnection();
      try {
        settle(db);
        return await fn(db);
      } finally {
        await knex.client.releaseConnection(db);
      }
    },
    /**
     * Runs `fn`, which commits on the connection it is given, with `synchronous = FULL`'s
     * durability but without its sync on the event loop: the connection commits at NORMAL (the
     * WAL frames are written, not synced) and `durable` resolves once the WAL has been synced in
     * the background (see `walSync`). Callers hand results out only after `durable`. The
     * connection is back at FULL before anyone else can borrow it, so the host's own writes on
     * it keep their durability.
     */
    async write<T>(fn: (db: SqliteDatabase) => T | Promise<T>): Promise<Written<T>> {
      return this.use(async (db) => {
        const background = walOf(db);
        if (!background) return { value: await fn(db), durable: Promise.resolve() };
        // Prepared once per connection (the statement cache), unlike db.pragma().
        db.prepare("PRAGMA synchronous = NORMAL").run();
        let value: T;
        try {
          value = await fn(db);
        } finally {
          db.prepare("PRAGMA synchronous = FULL").run();
        }
        return { value, durable: background.committed() };
      });
    },
    /**
     * Resolves once every commit made through `write` so far is durable: a read's results are
     * handed out after it, so nobody acts on a write that power loss could still undo.
     */
    durable(): Promise<void> {
      const all = [...retiring, ...(wal ? [wal.sync] : [])];
      if (all.length === 1) return all[0]!.durable();
      return Promise.all(all.map((sync) => sync.durable())).then(() => undefined);
    },
  };
}
