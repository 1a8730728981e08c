import type { Knex } from "knex";
import { TABLES } from "../tables.js";

const PENDING = "settlekit_outbox_pending";
const PENDING_BY_AGGREGATE = "settlekit_outbox_pending_by_aggregate";
const UNPUBLISHED = "settlekit_outbox_unpublished";

/**
 * The relay's claim by aggregate (`repositories/outbox.ts`) walks the unpublished events in append
 * order and looks up each one's earlier unpublished events of its aggregate: two partial indexes
 * over the unpublished rows only, so neither the walk nor the look-ups pass over published events
 * (the outbox keeps them, and they soon outnumber the pending ones). They replace the
 * `(available_at, seq)` index, which the claim no longer reads. Numbered 0015: 0014 is left to the
 * reconciliation work.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.outbox, (t) => {
    t.index(["seq"], PENDING, { predicate: knex.whereNull("published_at") });
    t.index(["aggregate_id", "seq"], PENDING_BY_AGGREGATE, { predicate: knex.whereNull("published_at") });
    t.dropIndex(["available_at", "seq"], UNPUBLISHED);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.outbox, (t) => {
    t.index(["available_at", "seq"], UNPUBLISHED, { predicate: knex.whereNull("published_at") });
    t.dropIndex(["aggregate_id", "seq"], PENDING_BY_AGGREGATE);
    t.dropIndex(["seq"], PENDING);
  });
}
