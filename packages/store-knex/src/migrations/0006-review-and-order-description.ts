import type { Knex } from "knex";
import { TABLES } from "../tables.js";

/**
 * What a PSP reported when its amount or currency was not the payment's (`requires_review`), so an
 * operator sees where the money is; and each payment order's description, which reaches the PSP's
 * hosted page. The reported currency is as the PSP spelled it (bounded by core to 16 characters).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.payments, (t) => {
    t.string("review_reason", 32).nullable();
    t.bigInteger("reported_amount").nullable();
    t.string("reported_currency", 16).nullable();
  });
  await knex.schema.alterTable(TABLES.paymentOrders, (t) => {
    t.string("description", 500).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.paymentOrders, (t) => {
    t.dropColumn("description");
  });
  await knex.schema.alterTable(TABLES.payments, (t) => {
    t.dropColumn("reported_currency");
    t.dropColumn("reported_amount");
    t.dropColumn("review_reason");
  });
}
