import type {
  AccountBalance,
  InsertJournalResult,
  Journal,
  LedgerRepository,
  Posting,
} from "@settlekit/core";
import { journalBalanceDeltas } from "@settlekit/core";
import type { Knex } from "knex";
import type { Sql } from "../dialect.js";
import { readBigInt, readDate, readJson } from "../dialect.js";
import { TABLES } from "../tables.js";

/** How many balance rows an account is split over (1 = not hot). */
export type ShardPolicy = (account: string) => number;

interface JournalRow {
  seq: string | number | bigint;
  id: string;
  reference: string;
  kind: string;
  metadata: unknown;
  created_at: unknown;
}

export function knexLedger(db: Knex | Knex.Transaction, sql: Sql, shards: ShardPolicy): LedgerRepository {
  const balanceRows = (postings: readonly Posting[]) =>
    journalBalanceDeltas(postings).map((delta) => {
      const k = Math.max(1, Math.floor(shards(delta.account)));
      // A random sub-row spreads concurrent writers over k row locks; reads sum them.
      return { ...delta, shard: k === 1 ? 0 : Math.floor(Math.random() * k) };
    });

  async function loadJournals(rows: JournalRow[]): Promise<Journal[]> {
    if (rows.length === 0) return [];
    const postings = await db(TABLES.postings)
      .select("journal_seq", "account", "currency", "direction", sql.text("amount"))
      .whereIn(
        "journal_seq",
        rows.map((r) => Number(r.seq)),
      )
      .orderBy("seq");
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

  async function insertSqlite(journal: Journal): Promise<boolean> {
    const inserted = await db(TABLES.journals)
      .insert({
        id: journal.id,
        reference: journal.reference,
        kind: journal.kind,
        metadata: sql.json(journal.metadata),
        created_at: sql.time(journal.createdAt),
      })
      .onConflict("reference")
      .ignore()
      .returning("seq");
    const seq = inserted[0]?.seq;
    if (seq === undefined) return false;
    await db(TABLES.postings).insert(
      journal.postings.map((p) => ({
        journal_seq: seq,
        account: p.account,
        currency: p.currency,
        direction: p.direction,
        amount: sql.int(p.amount),
      })),
    );
    for (const row of balanceRows(journal.postings)) {
      await db.raw(
        `INSERT INTO ${TABLES.balances} (account, currency, shard, debits, credits) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (account, currency, shard) DO UPDATE
         SET debits = ${TABLES.balances}.debits + excluded.debits, credits = ${TABLES.balances}.credits + excluded.credits`,
        [row.account, row.currency, row.shard, sql.int(row.debits), sql.int(row.credits)],
      );
    }
    return true;
  }

  /**
   * One round trip on Postgres: journal, postings and balance upserts in a single statement.
   * Balance rows are upserted in (account, currency) order so all writers lock in one order
   * (no deadlocks); a concurrent insert of the same reference waits on the unique index, then
   * inserts nothing.
   */
  async function insertPostgres(journal: Journal): Promise<boolean> {
    const postings = journal.postings.map((p, i) => [
      i,
      p.account,
      p.currency,
      p.direction,
      sql.int(p.amount),
    ]);
    const balances = balanceRows(journal.postings).map((b, i) => [
      i,
      b.account,
      b.currency,
      b.shard,
      sql.int(b.debits),
      sql.int(b.credits),
    ]);
    const result = await db.raw(
      `WITH j AS (
         INSERT INTO ${TABLES.journals} (id, reference, kind, metadata, created_at)
         VALUES (?, ?, ?, ?::json, ?) ON CONFLICT (reference) DO NOTHING RETURNING seq
       ), p AS (
         INSERT INTO ${TABLES.postings} (journal_seq, account, currency, direction, amount)
         SELECT j.seq, v.account, v.currency, v.direction, v.amount
         FROM j, (VALUES ${postings.map(() => "(?::int, ?, ?, ?, ?::bigint)").join(", ")})
           AS v(ord, account, currency, direction, amount)
         ORDER BY v.ord
       ), b AS (
         INSERT INTO ${TABLES.balances} AS bal (account, currency, shard, debits, credits)
         SELECT v.account, v.currency, v.shard, v.debits, v.credits
         FROM j, (VALUES ${balances.map(() => "(?::int, ?, ?, ?::int, ?::bigint, ?::bigint)").join(", ")})
           AS v(ord, account, currency, shard, debits, credits)
         ORDER BY v.ord
         ON CONFLICT (account, currency, shard) DO UPDATE
         SET debits = bal.debits + EXCLUDED.debits, credits = bal.credits + EXCLUDED.credits
       )
       SELECT seq FROM j`,
      [
        journal.id,
        journal.reference,
        journal.kind,
        sql.json(journal.metadata),
        journal.createdAt,
        ...postings.flat(),
        ...balances.flat(),
      ],
    );
    return result.rows.length === 1;
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
      const inserted =
        sql.dialect === "postgres" ? await insertPostgres(journal) : await insertSqlite(journal);
      if (inserted) return { inserted: true };
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
