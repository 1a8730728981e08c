import type { Knex } from "knex";
import { detectDialect } from "../dialect.js";
import { TABLES } from "../tables.js";

/**
 * The set-based pass's claims, kept with its batch's row instead of two key rows per exact match
 * (`repositories/reconciliation-bulk.ts`, Postgres):
 *
 * - `settlekit_reconciliation_matches.seqs`, `.record_ids`, `.journals`: the exact matches of the
 *   batch in seq order — each one's seq, record id and capture journal, as arrays (Postgres only:
 *   SQLite's repository stores every item as a row and leaves the table empty). The row's large
 *   columns are compressed with lz4 where the server has it (a fraction of pglz's CPU; a nightly
 *   file writes a row per batch). Rows from before have no arrays: their exact matches claimed
 *   key rows.
 * - `settlekit_reconciliation_keys.seq`: the seq of the item a key was claimed for, so that the
 *   end of the run orders every claim of a key — key rows and batch rows — in file order
 *   (`findRepeatedClaims`). Null on rows from before.
 */
const COMPRESSED = ["charges", "matched", "record_ids", "journals"];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.reconciliationKeys, (t) => {
    t.integer("seq").nullable();
  });
  if (detectDialect(knex) !== "postgres") return;
  await knex.schema.alterTable(TABLES.reconciliationMatches, (t) => {
    t.specificType("seqs", "integer[]").nullable();
    t.specificType("record_ids", "text[]").nullable();
    t.specificType("journals", "text[]").nullable();
  });
  // lz4 when the server was built with it (PostgreSQL 14+ and --with-lz4); pglz otherwise.
  const lz4 = await knex.raw(
    "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)",
  );
  if (lz4.rows.length === 0) return;
  for (const column of COMPRESSED) {
    await knex.raw(`ALTER TABLE ${TABLES.reconciliationMatches} ALTER COLUMN ${column} SET COMPRESSION lz4`);
  }
}

export async function down(knex: Knex): Promise<void> {
  if (detectDialect(knex) === "postgres") {
    await knex.schema.alterTable(TABLES.reconciliationMatches, (t) => {
      t.dropColumn("journals");
      t.dropColumn("record_ids");
      t.dropColumn("seqs");
    });
  }
  await knex.schema.alterTable(TABLES.reconciliationKeys, (t) => {
    t.dropColumn("seq");
  });
}
