import type { Knex } from "knex";
import { TABLES } from "../tables.js";
import { timestamp } from "./timestamp-column.js";

/**
 * Every PSP attempt of every payment: its reference keeps resolving to the payment after a retry
 * replaced it, and money captured on an attempt the payment does not need is tracked until it is
 * refunded. Payments registered before this migration get their current attempt back-filled.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable(TABLES.paymentAttempts, (t) => {
    t.string("payment_id", 64).notNullable().references("id").inTable(TABLES.payments);
    t.integer("attempt").notNullable();
    t.string("psp_id", 64).notNullable();
    t.string("psp_reference", 255).notNullable();
    t.bigInteger("amount").notNullable();
    t.string("currency", 3).notNullable();
    t.string("status", 32).notNullable();
    timestamp(knex, t, "closed_at").nullable();
    t.bigInteger("captured_amount").nullable();
    t.string("captured_currency", 16).nullable();
    t.string("unowned_reason", 32).nullable();
    t.string("capture_refund_status", 16).nullable();
    t.string("capture_refund_reference", 255).nullable();
    t.integer("version").notNullable();
    timestamp(knex, t, "created_at").notNullable();
    timestamp(knex, t, "updated_at").notNullable();
    t.primary(["payment_id", "attempt"]);
    t.unique(["psp_id", "psp_reference"]);
    t.index(["psp_id", "capture_refund_reference"]);
  });
  await knex.raw(
    `INSERT INTO ${TABLES.paymentAttempts} (payment_id, attempt, psp_id, psp_reference, amount, currency,
       status, version, created_at, updated_at)
     SELECT id, attempt, psp_id, psp_reference, amount, currency,
       CASE status
         WHEN 'processing' THEN 'processing'
         WHEN 'failed' THEN 'failed'
         WHEN 'canceled' THEN 'canceled'
         WHEN 'expired' THEN 'expired'
         WHEN 'succeeded' THEN 'succeeded'
         WHEN 'partially_refunded' THEN 'succeeded'
         WHEN 'refunded' THEN 'succeeded'
         ELSE 'requires_payment'
       END,
       1, updated_at, updated_at
     FROM ${TABLES.payments} WHERE psp_reference IS NOT NULL`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable(TABLES.paymentAttempts);
}
