import type { Knex } from "knex";
import { TABLES } from "../tables.js";
import { timestamp } from "./timestamp-column.js";

/**
 * Reconciliation runs, their items and the keys each run claimed:
 *
 * - `settlekit_reconciliation_runs`: one row per run; its totals per class and currency as a JSON
 *   document (a handful of entries). Indexed for the runs of a PSP and period (the same source
 *   finds its run, a corrected one the run it supersedes) and for the operators' list, newest first.
 * - `settlekit_reconciliation_items`: one row per record, ledger item or bank line, keyed by
 *   `(run_id, seq)`; its class in a column (the filter), the rest as JSON, the resolution beside it.
 * - `settlekit_journals (created_at, seq)`: the journals of a settlement period, in keyset pages
 *   (one index more on the journal insert path, paid for by a nightly range read instead of a
 *   scan of the whole ledger).
 * - `settlekit_reconciliation_keys`: what a run has seen (`record:<id>`, journal references), so
 *   duplicates and the ledger's unsettled journals are found by a primary-key lookup and an
 *   anti-join, never by holding a file's ids in memory.
 */
export const JOURNALS_BY_TIME = "settlekit_journals_created_at";
/** The unique index that makes a source's run unique per PSP and period. */
export const RUN_PER_SOURCE = "settlekit_reconciliation_runs_source";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.journals, (t) => {
    t.index(["created_at", "seq"], JOURNALS_BY_TIME);
  });
  await knex.schema.createTable(TABLES.reconciliationRuns, (t) => {
    t.string("id", 64).primary();
    t.string("psp_id", 64).notNullable();
    timestamp(knex, t, "period_from").notNullable();
    timestamp(knex, t, "period_to").notNullable();
    t.string("source", 32).notNullable();
    t.string("source_checksum", 64).nullable();
    t.string("status", 16).notNullable();
    t.string("supersedes", 64).nullable();
    t.string("superseded_by", 64).nullable();
    t.integer("record_count").notNullable();
    t.integer("bank_line_count").notNullable();
    t.integer("discrepancy_count").notNullable();
    t.string("anomaly", 32).nullable();
    t.text("totals").notNullable();
    t.integer("version").notNullable();
    timestamp(knex, t, "created_at").notNullable();
    timestamp(knex, t, "completed_at").nullable();
    t.index(["psp_id", "period_from", "period_to", "status"]);
    // One run per source: a checksum is set when a run completes (null while running).
    t.unique(["psp_id", "period_from", "period_to", "source_checksum"], { indexName: RUN_PER_SOURCE });
    t.index(["created_at", "id"]);
  });
  await knex.schema.createTable(TABLES.reconciliationItems, (t) => {
    t.string("run_id", 64).notNullable().references("id").inTable(TABLES.reconciliationRuns);
    t.integer("seq").notNullable();
    t.string("class", 32).notNullable();
    t.text("data").notNullable();
    t.text("resolution").nullable();
    t.primary(["run_id", "seq"]);
    t.index(["run_id", "class", "seq"]);
  });
  await knex.schema.createTable(TABLES.reconciliationKeys, (t) => {
    t.string("run_id", 64).notNullable();
    t.string("claim", 300).notNullable();
    t.primary(["run_id", "claim"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [TABLES.reconciliationKeys, TABLES.reconciliationItems, TABLES.reconciliationRuns]) {
    await knex.schema.dropTableIfExists(table);
  }
  await knex.schema.alterTable(TABLES.journals, (t) => {
    t.dropIndex(["created_at", "seq"], JOURNALS_BY_TIME);
  });
}
