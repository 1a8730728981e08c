import type { Journal } from "@settlekit/core";
import type { Knex } from "knex";
import type { JournalInsert, SqlAdapter } from "../../dialect.js";
import type { Outcome } from "../../group-commit.js";
import { groupCommit } from "../../group-commit.js";
import type { BalanceRow, ShardPolicy } from "../../repositories/balance-rows.js";
import { balanceRowsFor } from "../../repositories/balance-rows.js";
import {
  SQLITE_INSERT_JOURNAL,
  SQLITE_INSERT_POSTING,
  SQLITE_UPSERT_BALANCE,
} from "../../repositories/ledger-statements.js";
import { prepared } from "./exec.js";
import type { SqliteDatabase, SqliteTransaction } from "./types.js";

/** A journal inside a SQLite transaction: prepared statements, one row each (no round trips to save). */
export function sqliteTxInsert(trx: Knex.Transaction, sql: SqlAdapter, shards: ShardPolicy): JournalInsert {
  const exec = sql.exec(trx);
  return async (journal) => {
    const [inserted] = await exec.all(SQLITE_INSERT_JOURNAL, [
      journal.id,
      journal.reference,
      journal.kind,
      sql.json(journal.metadata),
      sql.time(journal.createdAt),
    ]);
    if (inserted === undefined) return false;
    for (const [ord, p] of journal.postings.entries()) {
      await exec.run(SQLITE_INSERT_POSTING, [
        inserted.seq,
        ord,
        p.account,
        p.currency,
        p.direction,
        sql.int(p.amount),
      ]);
    }
    for (const row of balanceRowsFor(journal.postings, shards)) {
      await exec.run(SQLITE_UPSERT_BALANCE, [
        row.account,
        row.currency,
        row.shard,
        sql.int(row.debits),
        sql.int(row.credits),
      ]);
    }
    return true;
  };
}

/**
 * Transaction-free journal posts on SQLite, group-committed: a group is written in one
 * `BEGIN IMMEDIATE` transaction, each journal inside its own savepoint (a failing journal rolls
 * back alone), so one WAL sync covers the group. Statements are prepared once per connection.
 */
export function sqliteJournalWriter(
  use: <T>(fn: (db: SqliteDatabase) => T) => Promise<T>,
  shards: ShardPolicy,
): JournalInsert {
  const batches = new WeakMap<SqliteDatabase, SqliteTransaction<[Journal[]], Outcome<boolean>[]>>();

  const prepare = (db: SqliteDatabase) => {
    const journal = prepared(db, SQLITE_INSERT_JOURNAL);
    const posting = prepared(db, SQLITE_INSERT_POSTING);
    const balance = prepared(db, SQLITE_UPSERT_BALANCE);
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
