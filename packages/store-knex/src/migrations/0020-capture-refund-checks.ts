import type { Knex } from "knex";
import { TABLES } from "../tables.js";
import { timestamp } from "./timestamp-column.js";

const PENDING = "settlekit_capture_refunds_pending";

/**
 * The refund sweeper polls the automatic refunds of unowned captures too (an attempt whose
 * `capture_refund_status` is left `pending` because its webhook or its answer was lost): their
 * claim and backoff (`check_after`, outside the domain record: see
 * `PaymentAttemptRepository.claimCaptureRefundCheck`) and a partial index over the attempts whose
 * capture refund is pending only, in the order the sweeper lists them, so the pass never reads
 * the others. Touches the payment attempts table only.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.paymentAttempts, (t) => {
    timestamp(knex, t, "check_after").nullable();
  });
  await knex.schema.alterTable(TABLES.paymentAttempts, (t) => {
    t.index(["updated_at", "payment_id", "attempt"], PENDING, {
      predicate: knex.whereRaw("capture_refund_status = 'pending'"),
    });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable(TABLES.paymentAttempts, (t) => {
    t.dropIndex(["updated_at", "payment_id", "attempt"], PENDING);
  });
  await knex.schema.alterTable(TABLES.paymentAttempts, (t) => {
    t.dropColumn("check_after");
  });
}
