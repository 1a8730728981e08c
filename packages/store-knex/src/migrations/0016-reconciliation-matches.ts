import type { Knex } from "knex";
import { TABLES } from "../tables.js";

/**
 * `settlekit_reconciliation_matches`: the exact charge matches of a run's set-based pass
 * (`matchExactCharges` on Postgres), one row per batch instead of one item row per record — on a
 * nightly file nearly every record is one. A row holds the batch's staged charges as sent
 * (`charges`, JSON) and which of them matched which payment (`matched`, JSON, in seq order) over
 * `[first_seq, last_seq]`; the store expands them into the classifier's `matched` items when
 * items are read (`listItems`, `getItem`), so a run reads the same either way. Resolving such an
 * item writes it to `settlekit_reconciliation_items`, whose row then stands for it. The table is
 * created on every dialect (SQLite's repository stores every item as a row and leaves it empty).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable(TABLES.reconciliationMatches, (t) => {
    t.string("run_id", 64).notNullable().references("id").inTable(TABLES.reconciliationRuns);
    t.integer("first_seq").notNullable();
    t.integer("last_seq").notNullable();
    t.text("charges").notNullable();
    t.text("matched").notNullable();
    t.primary(["run_id", "first_seq"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists(TABLES.reconciliationMatches);
}
