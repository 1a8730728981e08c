import type { Knex } from "knex";
import { TABLES } from "../tables.js";
import { timestamp } from "./timestamp-column.js";

const PENDING = "settlekit_refunds_pending";

/**
 * The refund sweeper (a refund left `pending` whose webhook was lost is polled at its PSP): its
 * claim and backoff (`check_after`, outside the domain record: see `RefundRepository.claimCheck`)
 * and a partial index over the pending refunds only, in the order the sweeper lists them, so the
 * pass never reads settled refunds. Touches the refunds table only.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.refunds, (t) => {
    timestamp(knex, t, "check_after").nullable();
  });
  await knex.schema.alterTable(TABLES.refunds, (t) => {
    t.index(["updated_at", "id"], PENDING, { predicate: knex.whereRaw("status = 'pending'") });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.refunds, (t) => {
    t.dropIndex(["updated_at", "id"], PENDING);
  });
  await knex.schema.alterTable(TABLES.refunds, (t) => {
    t.dropColumn("check_after");
  });
}
