import type { Knex } from "knex";
import { TABLES } from "../tables.js";
import { timestamp } from "./timestamp-column.js";

const DUE = "settlekit_payment_orders_due_for_release";
const HELD = "settlekit_payment_orders_held_by_seller";

/**
 * Payout holds: a fulfilled order's shipment and delivery dates, when its money becomes available
 * (`available_at`) and when it did (`released_at`). Orders fulfilled before this migration were
 * released at fulfilment: both dates are their `fulfilled_at`. Two partial indexes serve the
 * release pass (due orders by `available_at`) and the wallet (a seller's held orders); their
 * columns and predicates change only at fulfilment and release, never when a payment succeeds,
 * so those updates stay heap-only on Postgres. Touches the payment orders table only.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.paymentOrders, (t) => {
    timestamp(knex, t, "shipped_at").nullable();
    timestamp(knex, t, "delivered_at").nullable();
    timestamp(knex, t, "available_at").nullable();
    timestamp(knex, t, "released_at").nullable();
  });
  await knex(TABLES.paymentOrders)
    .whereNotNull("fulfilled_at")
    .update({ available_at: knex.ref("fulfilled_at"), released_at: knex.ref("fulfilled_at") });
  await knex.raw(
    `CREATE INDEX ${DUE} ON ${TABLES.paymentOrders} (available_at, id) WHERE released_at IS NULL AND available_at IS NOT NULL`,
  );
  await knex.raw(
    `CREATE INDEX ${HELD} ON ${TABLES.paymentOrders} (seller_id, available_at) WHERE released_at IS NULL AND fulfilled_at IS NOT NULL`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP INDEX ${HELD}`);
  await knex.raw(`DROP INDEX ${DUE}`);
  await knex.schema.alterTable(TABLES.paymentOrders, (t) => {
    t.dropColumn("released_at");
    t.dropColumn("available_at");
    t.dropColumn("delivered_at");
    t.dropColumn("shipped_at");
  });
}
