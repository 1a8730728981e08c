import type { Knex } from "knex";
import { TABLES } from "../tables.js";
import { timestamp } from "./timestamp-column.js";

/** Payments (payment events), their payment orders, refunds, and received webhook events. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable(TABLES.payments, (t) => {
    t.string("id", 64).primary();
    t.string("buyer_id", 255).notNullable();
    t.string("currency", 3).notNullable();
    t.bigInteger("amount").notNullable();
    t.string("status", 32).notNullable();
    t.string("method", 32).notNullable();
    t.string("psp_id", 64).notNullable();
    t.string("psp_reference", 255).nullable();
    t.text("success_url").notNullable();
    t.text("cancel_url").notNullable();
    t.integer("attempt").notNullable();
    t.text("redirect_url").nullable();
    t.text("failure_reason").nullable();
    t.bigInteger("refunded_amount").notNullable();
    t.json("metadata").notNullable();
    t.integer("version").notNullable();
    timestamp(knex, t, "created_at").notNullable();
    timestamp(knex, t, "updated_at").notNullable();
    timestamp(knex, t, "expires_at").nullable();
    // The sweeper's schedule, outside the domain record (see PaymentRepository.deferCheck).
    timestamp(knex, t, "check_after").nullable();
    t.unique(["psp_id", "psp_reference"]);
    t.index(["status", "updated_at"]);
    t.index(["buyer_id", "created_at"]);
  });
  await knex.schema.createTable(TABLES.paymentOrders, (t) => {
    t.string("id", 64).primary();
    t.string("payment_id", 64).notNullable().references("id").inTable(TABLES.payments);
    t.smallint("position").notNullable();
    t.string("buyer_id", 255).notNullable();
    t.string("seller_id", 255).notNullable();
    t.string("currency", 3).notNullable();
    t.bigInteger("amount").notNullable();
    t.string("status", 32).notNullable();
    t.string("refund_status", 32).notNullable();
    t.bigInteger("refunded_amount").notNullable();
    t.text("failure_reason").nullable();
    t.string("payout_reference", 255).nullable();
    t.json("metadata").notNullable();
    t.integer("version").notNullable();
    timestamp(knex, t, "created_at").notNullable();
    timestamp(knex, t, "updated_at").notNullable();
    timestamp(knex, t, "fulfilled_at").nullable();
    timestamp(knex, t, "paid_out_at").nullable();
    t.unique(["payment_id", "position"]);
    t.index(["seller_id", "status"]);
  });
  await knex.schema.createTable(TABLES.refunds, (t) => {
    t.string("id", 64).primary();
    t.string("payment_id", 64).notNullable().references("id").inTable(TABLES.payments);
    t.string("payment_order_id", 64).notNullable().references("id").inTable(TABLES.paymentOrders);
    t.bigInteger("amount").notNullable();
    t.string("currency", 3).notNullable();
    t.string("status", 32).notNullable();
    t.string("psp_refund_reference", 255).nullable().unique();
    t.text("reason").nullable();
    t.text("failure_reason").nullable();
    t.integer("version").notNullable();
    timestamp(knex, t, "created_at").notNullable();
    timestamp(knex, t, "updated_at").notNullable();
    t.index(["payment_id"]);
  });
  await knex.schema.createTable(TABLES.webhookEvents, (t) => {
    t.string("psp_id", 64).notNullable();
    t.string("event_id", 255).notNullable();
    t.json("payload").notNullable();
    t.string("status", 16).notNullable();
    t.integer("attempts").notNullable();
    t.text("last_error").nullable();
    timestamp(knex, t, "received_at").notNullable();
    timestamp(knex, t, "processed_at").nullable();
    t.primary(["psp_id", "event_id"]);
    t.index(["status", "received_at"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [TABLES.webhookEvents, TABLES.refunds, TABLES.paymentOrders, TABLES.payments]) {
    await knex.schema.dropTableIfExists(table);
  }
}
