import type { Knex } from "knex";
import { TABLES } from "../tables.js";
import { timestamp } from "./timestamp-column.js";

/** The delivery estimate fixed when a payment succeeded (email and status page agree). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.payments, (t) => {
    timestamp(knex, t, "estimated_delivery_at").nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.payments, (t) => {
    t.dropColumn("estimated_delivery_at");
  });
}
