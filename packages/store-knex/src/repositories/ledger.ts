import type { AccountBalance, InsertJournalResult, Journal, LedgerRepository } from "@settlekit/core";
import type { Knex } from "knex";
import type { Sql } from "../dialect.js";
import { readBigInt, readDate, readJson } from "../dialect.js";
import { execFor } from "../exec.js";
import { TABLES } from "../tables.js";
import type { ShardPolicy } from "./balance-rows.js";
import { balanceRowsFor } from "./balance-rows.js";

interface JournalRow {
  seq: string | number | bigint;
  id: string;
  reference: string;
  kind: string;
  metadata: unknown;
  created_at: unknown;
}

/** Inserts a validated journal with its balance rows; false when the reference already exists. */
export type JournalInsert = (journal: Journal) => Promise<boolean>;

/**
 * The ledger repository over `db`. `insert` is the write strategy: inside a transaction, plain
 * statements (SQLite) or the prepared single statement (Postgres); outside, group commit
 * (SQLite) or the single statement in autocommit (Postgres).
 */
export function knexLedger(db: Knex | Knex.Transaction, sql: Sql, insert: JournalInsert): LedgerRepository {
  async function loadJournals(rows: JournalRow[]): Promise<Journal[]> {
    if (rows.length === 0) return [];
    const postings = await db(TABLES.postings)
      .select("journal_seq", "account", "currency", "direction", sql.text("amount"))
      .whereIn(
        "journal_seq",
        rows.map((r) => Number(r.seq)),
      )
      .orderBy([{ column: "journal_seq" }, { column: "ord" }]);
    return rows.map((row) => ({
      id: row.id,
      reference: row.reference,
      kind: row.kind,
      metadata: readJson<Record<string, string>>(row.metadata),
      createdAt: readDate(row.created_at),
      postings: postings
        .filter((p) => String(p.journal_seq) === String(row.seq))
        .map((p) => ({
          account: p.account,
          currency: p.currency,
          direction: p.direction,
          amount: readBigInt(p.amount),
        })),
    }));
  }

  const getJournal = async (reference: string): Promise<Journal | null> => {
    const rows = await db(TABLES.journals).select<JournalRow[]>("*").where({ reference });
    return (await loadJournals(rows))[0] ?? null;
  };

  const sumBalances = (query: Knex.QueryBuilder) =>
    query
      .select(
        "account",
        "currency",
        db.raw("CAST(SUM(debits) AS TEXT) AS debits"),
        db.raw("CAST(SUM(credits) AS TEXT) AS credits"),
      )
      .groupBy("account", "currency")
      .orderBy([
        { column: "account", order: "asc" },
        { column: "currency", order: "asc" },
      ]);
  const toBalance = (row: {
    account: string;
    currency: string;
    debits: string;
    credits: string;
  }): AccountBalance => {
    const debits = readBigInt(row.debits);
    const credits = readBigInt(row.credits);
    return { account: row.account, currency: row.currency, debits, credits, balance: debits - credits };
  };

  return {
    async insertJournal(journal): Promise<InsertJournalResult> {
      if (await insert(journal)) return { inserted: true };
      const existing = await getJournal(journal.reference);
      if (!existing) throw new Error(`journal ${journal.reference} conflicted but cannot be read`);
      return { inserted: false, existing };
    },
    getJournal,
    async listJournals({ account, limit = 100, afterId }) {
      const query = db(TABLES.journals)
        .select<JournalRow[]>("*")
        .whereIn("seq", db(TABLES.postings).select("journal_seq").where({ account }))
        .orderBy("seq")
        .limit(Math.min(Math.max(limit, 1), 1000));
      if (afterId) query.where("seq", ">", db(TABLES.journals).select("seq").where({ id: afterId }));
      return loadJournals(await query);
    },
    async getBalance(account, currency) {
      const [row] = await sumBalances(db(TABLES.balances).where({ account, currency }));
      return row ? toBalance(row) : { account, currency, debits: 0n, credits: 0n, balance: 0n };
    },
    async listBalances(query = {}) {
      const builder = db(TABLES.balances);
      // substr, not LIKE: exact and case-sensitive on both dialects (SQLite's LIKE ignores case).
      if (query.accountPrefix) {
        builder.whereRaw("substr(account, 1, ?) = ?", [query.accountPrefix.length, query.accountPrefix]);
      }
      if (query.currency) builder.where({ currency: query.currency });
      return (await sumBalances(builder)).map(toBalance);
    },
  };
}

/** Inside a SQLite transaction: plain statements through knex. */
const INSERT_JOURNAL = `INSERT INTO ${TABLES.journals} (id, reference, kind, metadata, created_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (reference) DO NOTHING RETURNING seq`;
const INSERT_POSTING = `INSERT INTO ${TABLES.postings} (journal_seq, ord, account, currency, direction, amount) VALUES (?, ?, ?, ?, ?, ?)`;
const UPSERT_BALANCE = `INSERT INTO ${TABLES.balances} (account, currency, shard, debits, credits) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (account, currency, shard) DO UPDATE
SET debits = ${TABLES.balances}.debits + excluded.debits, credits = ${TABLES.balances}.credits + excluded.credits`;

/** A journal inside a SQLite transaction: prepared statements, one row each (no round trips to save). */
export function sqliteTxInsert(db: Knex.Transaction, sql: Sql, shards: ShardPolicy): JournalInsert {
  const exec = execFor(db, "sqlite");
  return async (journal) => {
    const [inserted] = await exec.all(INSERT_JOURNAL, [
      journal.id,
      journal.reference,
      journal.kind,
      sql.json(journal.metadata),
      sql.time(journal.createdAt),
    ]);
    if (inserted === undefined) return false;
    for (const [ord, p] of journal.postings.entries()) {
      await exec.run(INSERT_POSTING, [
        inserted.seq,
        ord,
        p.account,
        p.currency,
        p.direction,
        sql.int(p.amount),
      ]);
    }
    for (const row of balanceRowsFor(journal.postings, shards)) {
      await exec.run(UPSERT_BALANCE, [
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
