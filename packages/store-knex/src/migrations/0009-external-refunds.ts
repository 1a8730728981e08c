import type { Knex } from "knex";
import { TABLES } from "../tables.js";

const BY_REFERENCE = "settlekit_refunds_psp_reference_order";

/**
 * Refunds made at the PSP, outside settlekit (e.g. the Stripe Dashboard): `origin` says who made
 * a refund (`settlekit` for every existing row), and one PSP refund reference may now name one
 * refund per payment order, since an external refund is spread over the payment's orders. The
 * reference stays unique per order — the same report can never be booked twice for one order —
 * and the new index serves the lookups by reference the old unique one did. Touches the refunds
 * table only.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.refunds, (t) => {
    t.string("origin", 16).notNullable().defaultTo("settlekit");
  });
  await knex.schema.alterTable(TABLES.refunds, (t) => {
    t.dropUnique(["psp_refund_reference"]);
    t.unique(["psp_refund_reference", "payment_order_id"], { indexName: BY_REFERENCE });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.refunds, (t) => {
    t.dropUnique(["psp_refund_reference", "payment_order_id"], BY_REFERENCE);
    t.unique(["psp_refund_reference"]);
  });
  await knex.schema.alterTable(TABLES.refunds, (t) => {
    t.dropColumn("origin");
  });
}
