import { TABLES } from "../tables.js";

/**
 * Every statement text of the ledger's tables (journals, postings, balance rows) that a dialect
 * sends by hand, in one place; the reads the builder composes are in `ledger.ts`.
 */

/** SQLite, one row a statement (an embedded database has no round trips to save). */
export const SQLITE_INSERT_JOURNAL = `INSERT INTO ${TABLES.journals} (id, reference, kind, metadata, created_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (reference) DO NOTHING RETURNING seq`;
export const SQLITE_INSERT_POSTING = `INSERT INTO ${TABLES.postings} (journal_seq, ord, account, currency, direction, amount) VALUES (?, ?, ?, ?, ?, ?)`;
export const SQLITE_UPSERT_BALANCE = `INSERT INTO ${TABLES.balances} (account, currency, shard, debits, credits) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (account, currency, shard) DO UPDATE
SET debits = ${TABLES.balances}.debits + excluded.debits, credits = ${TABLES.balances}.credits + excluded.credits`;

/**
 * One statement inserts the journal, its postings and its balance upserts. Its text never
 * changes (arrays through `unnest`, not a VALUES list per posting count), so it runs as a named
 * prepared statement: Postgres parses and plans it once per connection instead of per journal,
 * which is most of the server's cost. Balance rows are upserted in the order given (sorted by
 * account and currency) so all writers take row locks in one order and never deadlock; a
 * concurrent insert of the same reference waits on the unique index, then inserts nothing.
 */
export const PG_INSERT_JOURNAL = `
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

/**
 * Many journals in one statement (group commit outside transactions). Journals are inserted in
 * reference order and balance rows — summed per row across the group — upserted in
 * (account, currency, shard) byte order (`COLLATE "C"`, the order core sorts in), so concurrent
 * groups and single inserts all lock in one global order. Only journals that were actually
 * inserted (no reference conflict) contribute postings and balances.
 */
export const PG_INSERT_JOURNALS = `
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
