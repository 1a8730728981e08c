import type { Knex } from "knex";
import { detectDialect } from "../dialect.js";
import { TABLES } from "../tables.js";

const BY_DATE = "settlekit_payment_orders_seller_by_date";

/**
 * A seller's orders (`listBySeller`: newest first, keyset paging on (created_at, id), optionally
 * some statuses) read in index order instead of sorting all of the seller's rows; the status is
 * filtered on the way. The (seller_id, status) index it replaces served no other query, and with
 * no indexed column changing when an order's status does, Postgres can update orders heap-only
 * (HOT) given room on the page: no index churn and less WAL when a payment succeeds.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.paymentOrders, (t) => {
    t.index(["seller_id", "created_at", "id"], BY_DATE);
    t.dropIndex(["seller_id", "status"]);
  });
  if (detectDialect(knex) === "postgres") {
    await knex.raw(`ALTER TABLE ${TABLES.paymentOrders} SET (fillfactor = 80)`);
  }
}

export async function down(knex: Knex): Promise<void> {
  if (detectDialect(knex) === "postgres") {
    await knex.raw(`ALTER TABLE ${TABLES.paymentOrders} RESET (fillfactor)`);
  }
  await knex.schema.alterTable(TABLES.paymentOrders, (t) => {
    t.index(["seller_id", "status"]);
    t.dropIndex(["seller_id", "created_at", "id"], BY_DATE);
  });
}
