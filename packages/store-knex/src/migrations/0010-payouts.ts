import type { Knex } from "knex";
import { TABLES } from "../tables.js";
import { timestamp } from "./timestamp-column.js";

/**
 * The unique index that lets a journal be paid at most once per seller and currency
 * (`repositories/payouts.ts` turns its violation into `STORE_CONFLICT`).
 */
export const PAYOUT_LINES_JOURNAL = "settlekit_payout_lines_journal";

/**
 * Payouts to sellers, the journal lines each one pays, and sellers' payout settings:
 *
 * - `settlekit_payouts`: one row per payout, the FX rate it was locked at in `fx_*` columns (all
 *   null for a payout in its own currency); the PSP's reference is unique per PSP. Indexed for a
 *   seller's payouts newest first (`seller_id, created_at, id`) and for the payouts of a status
 *   oldest first (`status, created_at, id`).
 * - `settlekit_payout_lines`: the journals a payout pays, with the seller beside them so that
 *   `UNIQUE (seller_id, currency, journal_reference)` refuses a journal paid twice — and serves the
 *   anti-join that finds a seller's unpaid journals. A journal touching several sellers is paid
 *   once for each.
 * - `settlekit_seller_payout_accounts`: one row per seller; the scheduler's due accounts come from
 *   a partial index on `next_payout_at` (null for manual payouts, never due).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable(TABLES.payouts, (t) => {
    t.string("id", 64).primary();
    t.string("seller_id", 255).notNullable();
    t.string("psp_id", 64).notNullable();
    t.string("status", 16).notNullable();
    t.string("payout_trigger", 16).notNullable();
    t.bigInteger("source_amount").notNullable();
    t.string("source_currency", 3).notNullable();
    t.bigInteger("amount").notNullable();
    t.string("currency", 3).notNullable();
    t.string("fx_rate_id", 255).nullable();
    t.string("fx_source", 64).nullable();
    t.string("fx_rate", 64).nullable();
    t.integer("fx_spread_bps").nullable();
    t.bigInteger("fx_converted_amount").nullable();
    t.bigInteger("fx_spread_amount").nullable();
    t.string("psp_payout_reference", 255).nullable();
    t.integer("attempts").notNullable();
    t.integer("psp_outcome_unknown").notNullable();
    t.text("last_error").nullable();
    t.string("failure_code", 64).nullable();
    t.text("failure_message").nullable();
    t.bigInteger("amount_reversed").notNullable();
    t.integer("version").notNullable();
    timestamp(knex, t, "created_at").notNullable();
    timestamp(knex, t, "updated_at").notNullable();
    timestamp(knex, t, "paid_at").nullable();
    timestamp(knex, t, "failed_at").nullable();
    t.unique(["psp_id", "psp_payout_reference"]);
    t.index(["seller_id", "created_at", "id"]);
    t.index(["status", "created_at", "id"]);
  });
  await knex.schema.createTable(TABLES.payoutLines, (t) => {
    t.string("payout_id", 64).notNullable().references("id").inTable(TABLES.payouts);
    t.string("journal_reference", 255).notNullable();
    t.string("seller_id", 255).notNullable();
    t.string("currency", 3).notNullable();
    t.string("kind", 64).notNullable();
    t.bigInteger("amount").notNullable();
    timestamp(knex, t, "posted_at").notNullable();
    t.primary(["payout_id", "journal_reference"]);
    t.unique(["seller_id", "currency", "journal_reference"], { indexName: PAYOUT_LINES_JOURNAL });
  });
  await knex.schema.createTable(TABLES.sellerPayoutAccounts, (t) => {
    t.string("seller_id", 255).primary();
    t.string("payout_interval", 16).notNullable();
    t.string("payout_currency", 3).nullable();
    timestamp(knex, t, "next_payout_at").nullable();
    t.string("last_skip_reason", 64).nullable();
    t.integer("version").notNullable();
    timestamp(knex, t, "created_at").notNullable();
    timestamp(knex, t, "updated_at").notNullable();
    t.index(["next_payout_at", "seller_id"], "settlekit_seller_payout_accounts_due", {
      predicate: knex.whereNotNull("next_payout_at"),
    });
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [TABLES.sellerPayoutAccounts, TABLES.payoutLines, TABLES.payouts]) {
    await knex.schema.dropTableIfExists(table);
  }
}
