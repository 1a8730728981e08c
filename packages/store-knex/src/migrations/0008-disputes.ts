import type { Knex } from "knex";
import { TABLES } from "../tables.js";
import { timestamp } from "./timestamp-column.js";

/**
 * Disputes (chargebacks) of payments: one row per PSP dispute (`psp_id`, `psp_dispute_reference`
 * unique), its money as the PSP moved it, and its split over the payment's orders (`allocations`,
 * JSON with amounts as decimal strings). Listed newest first by operators.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable(TABLES.disputes, (t) => {
    t.string("id", 64).primary();
    t.string("payment_id", 64).notNullable().references("id").inTable(TABLES.payments);
    t.string("psp_id", 64).notNullable();
    t.string("psp_dispute_reference", 255).notNullable();
    t.string("psp_reference", 255).notNullable();
    t.bigInteger("amount").notNullable();
    t.string("currency", 3).notNullable();
    t.bigInteger("amount_withdrawn").notNullable();
    t.bigInteger("fee").notNullable();
    t.bigInteger("amount_reinstated").notNullable();
    t.bigInteger("fee_returned").notNullable();
    t.string("fee_bearer", 16).notNullable();
    t.string("reason", 255).nullable();
    t.string("status", 32).notNullable();
    timestamp(knex, t, "evidence_due_by").nullable();
    t.json("allocations").notNullable();
    timestamp(knex, t, "funds_withdrawn_at").nullable();
    timestamp(knex, t, "funds_reinstated_at").nullable();
    t.integer("version").notNullable();
    timestamp(knex, t, "created_at").notNullable();
    timestamp(knex, t, "updated_at").notNullable();
    t.unique(["psp_id", "psp_dispute_reference"]);
    t.index(["payment_id"]);
    t.index(["created_at", "id"]);
    t.index(["status", "created_at"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists(TABLES.disputes);
}
