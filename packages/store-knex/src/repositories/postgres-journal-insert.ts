import type { Journal } from "@settlekit/core";
import type { Knex } from "knex";
import type { Outcome } from "../group-commit.js";
import { groupCommit } from "../group-commit.js";
import { TABLES } from "../tables.js";
import type { ShardPolicy } from "./balance-rows.js";
import { balanceRowsFor } from "./balance-rows.js";

/**
 * One statement inserts the journal, its postings and its balance upserts. Its text never
 * changes (arrays through `unnest`, not a VALUES list per posting count), so it runs as a named
 * prepared statement: Postgres parses and plans it once per connection instead of per journal,
 * which is most of the server's cost. Balance rows are upserted in the order given (sorted by
 * account and currency) so all writers take row locks in one order and never deadlock; a
 * concurrent insert of the same reference waits on the unique index, then inserts nothing.
 */
const INSERT_JOURNAL = `
WITH j AS (
  INSERT INTO ${TABLES.journals} (id, reference, kind, metadata, created_at)
  VALUES ($1, $2, $3, $4::json, $5) ON CONFLICT (reference) DO NOTHING RETURNING seq
), p AS (
  INSERT INTO ${TABLES.postings} (journal_seq, ord, account, currency, direction, amount)
  SELECT j.seq, v.ord - 1, v.account, v.currency, v.direction, v.amount
  FROM j, unnest($6::text[], $7::text[], $8::text[], $9::bigint[])
    WITH ORDINALITY AS v(account, currency, direction, amount, ord)
  ORDER BY v.ord
), b AS (
  INSERT INTO ${TABLES.balances} AS bal (account, currency, shard, debits, credits)
  SELECT v.account, v.currency, v.shard, v.debits, v.credits
  FROM j, unnest($10::text[], $11::text[], $12::int[], $13::bigint[], $14::bigint[])
    WITH ORDINALITY AS v(account, currency, shard, debits, credits, ord)
  ORDER BY v.ord
  ON CONFLICT (account, currency, shard) DO UPDATE
  SET debits = bal.debits + EXCLUDED.debits, credits = bal.credits + EXCLUDED.credits
)
SELECT seq FROM j`;

interface PgConnection {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Inserts through `db`'s own pg connection (the transaction's, or one borrowed from the pool):
 * knex cannot name a prepared statement, the pg client can. Returns false on a reference conflict.
 */
export async function insertJournalPostgres(
  db: Knex | Knex.Transaction,
  journal: Journal,
  shards: ShardPolicy,
): Promise<boolean> {
  const balances = balanceRowsFor(journal.postings, shards);
  const client = db.client as Knex.Client;
  const connection: PgConnection = await client.acquireConnection();
  try {
    const { rows } = await connection.query({
      name: "settlekit_insert_journal_v2",
      text: INSERT_JOURNAL,
      values: [
        journal.id,
        journal.reference,
        journal.kind,
        JSON.stringify(journal.metadata),
        journal.createdAt,
        journal.postings.map((p) => p.account),
        journal.postings.map((p) => p.currency),
        journal.postings.map((p) => p.direction),
        journal.postings.map((p) => p.amount.toString()),
        balances.map((b) => b.account),
        balances.map((b) => b.currency),
        balances.map((b) => b.shard),
        balances.map((b) => b.debits.toString()),
        balances.map((b) => b.credits.toString()),
      ],
    });
    return rows.length === 1;
  } finally {
    await client.releaseConnection(connection);
  }
}

/**
 * Many journals in one statement (group commit outside transactions). Journals are inserted in
 * reference order and balance rows — summed per row across the group — upserted in
 * (account, currency, shard) byte order (`COLLATE "C"`, the order core sorts in), so concurrent
 * groups and single inserts all lock in one global order. Only journals that were actually
 * inserted (no reference conflict) contribute postings and balances.
 */
const INSERT_JOURNALS = `
WITH j AS (
  INSERT INTO ${TABLES.journals} (id, reference, kind, metadata, created_at)
  SELECT v.id, v.reference, v.kind, v.metadata::json, v.created_at
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
    WITH ORDINALITY AS v(id, reference, kind, metadata, created_at, ord)
  ORDER BY v.ord
  ON CONFLICT (reference) DO NOTHING RETURNING seq, reference
), p AS (
  INSERT INTO ${TABLES.postings} (journal_seq, ord, account, currency, direction, amount)
  SELECT j.seq, v.ord, v.account, v.currency, v.direction, v.amount
  FROM unnest($6::text[], $7::int[], $8::text[], $9::text[], $10::text[], $11::bigint[])
    AS v(reference, ord, account, currency, direction, amount)
  JOIN j ON j.reference = v.reference
), b AS (
  INSERT INTO ${TABLES.balances} AS bal (account, currency, shard, debits, credits)
  SELECT v.account, v.currency, v.shard, SUM(v.debits), SUM(v.credits)
  FROM unnest($12::text[], $13::text[], $14::text[], $15::int[], $16::bigint[], $17::bigint[])
    AS v(reference, account, currency, shard, debits, credits)
  JOIN j ON j.reference = v.reference
  GROUP BY v.account, v.currency, v.shard
  ORDER BY v.account COLLATE "C", v.currency COLLATE "C", v.shard
  ON CONFLICT (account, currency, shard) DO UPDATE
  SET debits = bal.debits + EXCLUDED.debits, credits = bal.credits + EXCLUDED.credits
)
SELECT reference FROM j`;

const byReference = (a: Journal, b: Journal) =>
  a.reference < b.reference ? -1 : a.reference > b.reference ? 1 : 0;

/** Inserts a group of journals in one autocommit statement; per journal: inserted or not. */
async function insertGroup(
  knex: Knex,
  journals: Journal[],
  shards: ShardPolicy,
): Promise<Outcome<boolean>[]> {
  // One journal per reference goes in; a duplicate in the same group reports "not inserted" and
  // its caller reads the journal that did.
  const firsts = new Map<string, Journal>();
  for (const journal of journals) if (!firsts.has(journal.reference)) firsts.set(journal.reference, journal);
  const group = [...firsts.values()].sort(byReference);
  const postings = group.flatMap((j) => j.postings.map((p, ord) => ({ reference: j.reference, ord, ...p })));
  const balances = group.flatMap((j) =>
    balanceRowsFor(j.postings, shards).map((b) => ({ reference: j.reference, ...b })),
  );
  const client = knex.client as Knex.Client;
  const connection: PgConnection = await client.acquireConnection();
  let rows: unknown[];
  try {
    ({ rows } = await connection.query({
      name: "settlekit_insert_journals_v1",
      text: INSERT_JOURNALS,
      values: [
        group.map((j) => j.id),
        group.map((j) => j.reference),
        group.map((j) => j.kind),
        group.map((j) => JSON.stringify(j.metadata)),
        group.map((j) => j.createdAt),
        postings.map((p) => p.reference),
        postings.map((p) => p.ord),
        postings.map((p) => p.account),
        postings.map((p) => p.currency),
        postings.map((p) => p.direction),
        postings.map((p) => p.amount.toString()),
        balances.map((b) => b.reference),
        balances.map((b) => b.account),
        balances.map((b) => b.currency),
        balances.map((b) => b.shard),
        balances.map((b) => b.debits.toString()),
        balances.map((b) => b.credits.toString()),
      ],
    }));
  } finally {
    await client.releaseConnection(connection);
  }
  const inserted = new Set((rows as { reference: string }[]).map((r) => r.reference));
  return journals.map((j) => ({ value: firsts.get(j.reference) === j && inserted.has(j.reference) }));
}

/**
 * Transaction-free journal posts on Postgres, group-committed. When a group fails as a whole for
 * a reason that is not a transient conflict, its journals are retried one by one so only the
 * faulty one fails.
 */
export function postgresJournalWriter(
  knex: Knex,
  shards: ShardPolicy,
  isTransient: (error: unknown) => boolean,
): (journal: Journal) => Promise<boolean> {
  return groupCommit(async (journals: Journal[]) => {
    try {
      return await insertGroup(knex, journals, shards);
    } catch (error) {
      if (journals.length === 1 || isTransient(error)) throw error;
      return Promise.all(
        journals.map(async (journal): Promise<Outcome<boolean>> => {
          try {
            return { value: await insertJournalPostgres(knex, journal, shards) };
          } catch (single) {
            return { error: single };
          }
        }),
      );
    }
  });
}
