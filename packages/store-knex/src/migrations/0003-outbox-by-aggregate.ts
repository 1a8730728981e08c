import type { Knex } from "knex";
import { TABLES } from "../tables.js";

const INDEX = "settlekit_outbox_by_aggregate";

/** A payment's timeline (`GET /payments/:id/events`) reads its outbox events in order. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.outbox, (t) => {
    t.index(["aggregate_id", "seq"], INDEX);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.outbox, (t) => {
    t.dropIndex(["aggregate_id", "seq"], INDEX);
  });
}
