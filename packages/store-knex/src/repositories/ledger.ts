import type {
  AccountBalance,
  InsertJournalResult,
  Journal,
  LedgerRepository,
  Posting,
} from "@settlekit/core";
import type { Knex } from "knex";
import type { JournalInsert, SqlAdapter } from "../dialect.js";
import { TABLES } from "../tables.js";
import { readBigInt, readDate, readJson } from "../values.js";

interface JournalRow {
  seq: string | number | bigint;
  id: string;
  reference: string;
  kind: string;
  metadata: unknown;
  created_at: unknown;
}

/**
 * The ledger repository over `db`. `insert` is the dialect's write strategy (its texts are in
 * `ledger-statements.ts`): inside a transaction, plain statements (SQLite) or the prepared single
 * statement (Postgres); outside, group commit (`StoreDialect.autocommitJournalInsert`).
 */
export function knexLedger(
  db: Knex | Knex.Transaction,
  sql: SqlAdapter,
  insert: JournalInsert,
): LedgerRepository {
  const exec = sql.exec(db);
  async function loadJournals(rows: JournalRow[]): Promise<Journal[]> {
    if (rows.length === 0) return [];
    const postings = await exec.rows(
      db(TABLES.postings)
        .select("journal_seq", "account", "currency", "direction", sql.text("amount"))
        .whereIn(
          "journal_seq",
          rows.map((r) => Number(r.seq)),
        )
        .orderBy([{ column: "journal_seq" }, { column: "ord" }]),
    );
    return rows.map((row) => ({
      id: row.id,
      reference: row.reference,
      kind: row.kind,
      metadata: readJson<Record<string, string>>(row.metadata),
      createdAt: readDate(row.created_at),
      postings: postings
        .filter((p) => String(p.journal_seq) === String(row.seq))
        .map((p) => ({
          account: String(p.account),
          currency: String(p.currency),
          direction: p.direction as Posting["direction"],
          amount: readBigInt(p.amount),
        })),
    }));
  }

  const getJournal = async (reference: string): Promise<Journal | null> => {
    const rows = (await exec.rows(
      db(TABLES.journals).select("*").where({ reference }),
    )) as unknown as JournalRow[];
    return (await loadJournals(rows))[0] ?? null;
  };

  const sumBalances = async (query: Knex.QueryBuilder) =>
    (await exec.rows(
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
        ]),
    )) as unknown as { account: string; currency: string; debits: string; credits: string }[];
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
    async listJournals({ account, accounts, limit = 100, afterId }) {
      const wanted = [...new Set([account, ...(accounts ?? [])])];
      const query = db(TABLES.journals)
        .select("*")
        .whereIn("seq", db(TABLES.postings).select("journal_seq").whereIn("account", wanted))
        .orderBy("seq")
        .limit(Math.min(Math.max(limit, 1), 1000));
      if (afterId) query.where("seq", ">", db(TABLES.journals).select("seq").where({ id: afterId }));
      return loadJournals((await exec.rows(query)) as unknown as JournalRow[]);
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
      // One account: the primary key's leading column (a prefix cannot use an index in any collation).
      if (query.account !== undefined) builder.where({ account: query.account });
      if (query.currency) builder.where({ currency: query.currency });
      return (await sumBalances(builder)).map(toBalance);
    },
  };
}
