import type { Knex } from "knex";
import { TABLES } from "../tables.js";
import { RUN_PER_SOURCE } from "./0012-reconciliation.js";

/** The (non-unique) index reconciliation finds a source's runs by. */
export const RUNS_BY_SOURCE = "settlekit_reconciliation_runs_by_source";

const COLUMNS = ["psp_id", "period_from", "period_to", "source_checksum"];

/**
 * A source may have several runs: re-running it after pending items of its run came due is a
 * fresh run that supersedes the stored one (time is an input). The unique index on the source
 * becomes a plain one; one current run per period stays unique (0014), and the commit still
 * serializes on the period, so two concurrent runs of one source still end as one run.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.reconciliationRuns, (t) => {
    t.dropUnique(COLUMNS, RUN_PER_SOURCE);
    t.index(COLUMNS, RUNS_BY_SOURCE);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.reconciliationRuns, (t) => {
    t.dropIndex(COLUMNS, RUNS_BY_SOURCE);
    t.unique(COLUMNS, { indexName: RUN_PER_SOURCE });
  });
}
