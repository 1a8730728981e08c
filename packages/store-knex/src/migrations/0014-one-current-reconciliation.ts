import type { Knex } from "knex";
import { TABLES } from "../tables.js";

/** The partial unique index that keeps one `completed` run per PSP and period. */
export const CURRENT_RUN_PER_PERIOD = "settlekit_reconciliation_runs_current";

/**
 * At most one current (`completed`) reconciliation run per PSP and period. Before it, two
 * corrected files committed at the same moment on Postgres could both find no current run and
 * both complete; such pairs are repaired first (the newest stays current, the others are marked
 * superseded by it, as a later file would have done), then the index refuses any new pair. The
 * commit itself serializes on the period (`findCurrentRun({ forUpdate })`), so the index is the
 * backstop, not the mechanism.
 */
export async function up(knex: Knex): Promise<void> {
  const rows: { id: string; psp_id: string; period_from: unknown; period_to: unknown }[] = await knex(
    TABLES.reconciliationRuns,
  )
    .select("id", "psp_id", "period_from", "period_to")
    .where("status", "completed")
    .orderBy([
      { column: "created_at", order: "desc" },
      { column: "id", order: "desc" },
    ]);
  const instant = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));
  const newest = new Map<string, string>();
  for (const row of rows) {
    const period = `${row.psp_id}\u0000${instant(row.period_from)}\u0000${instant(row.period_to)}`;
    const keep = newest.get(period);
    if (keep === undefined) {
      newest.set(period, row.id);
      continue;
    }
    await knex(TABLES.reconciliationRuns)
      .where({ id: row.id, status: "completed" })
      .update({ status: "superseded", superseded_by: keep, version: knex.raw("version + 1") });
  }
  await knex.raw(
    `CREATE UNIQUE INDEX ${CURRENT_RUN_PER_PERIOD} ON ${TABLES.reconciliationRuns} (psp_id, period_from, period_to) WHERE status = 'completed'`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP INDEX ${CURRENT_RUN_PER_PERIOD}`);
}
