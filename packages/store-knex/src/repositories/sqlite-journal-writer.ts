import type { Journal } from "@settlekit/core";
import type { Outcome } from "../group-commit.js";
import { groupCommit } from "../group-commit.js";
import type { SqliteDatabase, SqliteTransaction } from "../sqlite-connection.js";
import { TABLES } from "../tables.js";
import type { BalanceRow, ShardPolicy } from "./balance-rows.js";
import { balanceRowsFor } from "./balance-rows.js";

/**
 * Transaction-free journal posts on SQLite, group-committed: a group is written in one
 * `BEGIN IMMEDIATE` transaction, each journal inside its own savepoint (a failing journal rolls
 * back alone), so one WAL sync covers the group. Statements are prepared once per connection.
 */
export function sqliteJournalWriter(
  use: <T>(fn: (db: SqliteDatabase) => T) => Promise<T>,
  shards: ShardPolicy,
): (journal: Journal) => Promise<boolean> {
  const batches = new WeakMap<SqliteDatabase, SqliteTransaction<[Journal[]], Outcome<boolean>[]>>();

  const prepare = (db: SqliteDatabase) => {
    const journal = db.prepare(
      `INSERT INTO ${TABLES.journals} (id, reference, kind, metadata, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (reference) DO NOTHING RETURNING seq`,
    );
    const posting = db.prepare(
      `INSERT INTO ${TABLES.postings} (journal_seq, ord, account, currency, direction, amount) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    const balance = db.prepare(
      `INSERT INTO ${TABLES.balances} (account, currency, shard, debits, credits) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (account, currency, shard) DO UPDATE
       SET debits = debits + excluded.debits, credits = credits + excluded.credits`,
    );
    const one = db.transaction((j: Journal, rows: BalanceRow[]): boolean => {
      const row = journal.get(j.id, j.reference, j.kind, JSON.stringify(j.metadata), j.createdAt.getTime()) as
        | { seq: number }
        | undefined;
      if (!row) return false;
      for (const [ord, p] of j.postings.entries())
        posting.run(row.seq, ord, p.account, p.currency, p.direction, p.amount);
      for (const b of rows) balance.run(b.account, b.currency, b.shard, b.debits, b.credits);
      return true;
    });
    // Nested better-sqlite3 transactions are savepoints.
    const batch = db.transaction((journals: Journal[]): Outcome<boolean>[] =>
      journals.map((j) => {
        try {
          return { value: one(j, balanceRowsFor(j.postings, shards)) };
        } catch (error) {
          return { error };
        }
      }),
    );
    batches.set(db, batch);
    return batch;
  };

  return groupCommit((journals: Journal[]) =>
    use((db) => (batches.get(db) ?? prepare(db)).immediate(journals)),
  );
}
