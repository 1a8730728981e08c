import type { StoreHarness, StoreTable } from "@settlekit/core/testing";
import type { Knex } from "knex";
import type { KnexStore, KnexStoreOptions } from "../../src/index.js";
import { TABLES } from "../../src/index.js";
import { openTestDatabase, sqliteKnex, tempSqliteFile, testPostgresUrl } from "../../src/testing.js";

/** The machine's PostgreSQL; CI=true must fail (not skip) when it is down, so nothing here skips. */
export const PG_URL = testPostgresUrl();

export { sqliteKnex, tempSqliteFile };

/** A Postgres schema of its own (dropped by `drop`), reached through knex's searchPath. */
export async function postgresSchema(
  poolMax = 16,
): Promise<{ knex: Knex; schema: string; drop(): Promise<void> }> {
  const database = await openTestDatabase("postgres", { poolMax });
  return { knex: database.knex, schema: database.location, drop: database.close };
}

const TABLE_OF: Record<StoreTable, string> = {
  journals: TABLES.journals,
  postings: TABLES.postings,
  balance_rows: TABLES.balances,
  outbox: TABLES.outbox,
  jobs: TABLES.jobs,
  idempotency_keys: TABLES.idempotencyKeys,
  payments: TABLES.payments,
  payment_orders: TABLES.paymentOrders,
  refunds: TABLES.refunds,
  webhook_events: TABLES.webhookEvents,
  payment_attempts: TABLES.paymentAttempts,
  disputes: TABLES.disputes,
  payouts: TABLES.payouts,
  payout_lines: TABLES.payoutLines,
  seller_payout_accounts: TABLES.sellerPayoutAccounts,
  daily_task_runs: TABLES.dailyTaskRuns,
  reconciliation_runs: TABLES.reconciliationRuns,
  reconciliation_items: TABLES.reconciliationItems,
};

/** A conformance harness over a store, reading back with plain SQL. */
export function harness(store: KnexStore, cleanup: () => Promise<void>): StoreHarness {
  const { knex } = store;
  return {
    store,
    cleanup,
    inspect: {
      async count(table) {
        const [row] = await knex(TABLE_OF[table]).count({ n: "*" });
        return Number(row?.n);
      },
      async balanceRows(account, currency) {
        const rows = await knex(TABLES.balances)
          .select(knex.raw("CAST(debits AS TEXT) AS debits"), knex.raw("CAST(credits AS TEXT) AS credits"))
          .where({ account, currency });
        return rows.map((r: { debits: string; credits: string }) => ({
          debits: BigInt(r.debits),
          credits: BigInt(r.credits),
        }));
      },
    },
  };
}

/** Empties every settlekit table (Postgres), keeping the schema and the migrations. */
export async function truncateAll(knex: Knex): Promise<void> {
  await knex.raw(
    `TRUNCATE ${[
      TABLES.dailyTaskRuns,
      TABLES.reconciliationKeys,
      TABLES.reconciliationMatches,
      TABLES.reconciliationItems,
      TABLES.reconciliationRuns,
      TABLES.payoutLines,
      TABLES.payouts,
      TABLES.sellerPayoutAccounts,
      TABLES.postings,
      TABLES.journals,
      TABLES.balances,
      TABLES.outbox,
      TABLES.jobs,
      TABLES.idempotencyKeys,
      TABLES.webhookEvents,
      TABLES.refunds,
      TABLES.paymentOrders,
      TABLES.payments,
    ].join(", ")} RESTART IDENTITY CASCADE`,
  );
}

export function storeOptions(): KnexStoreOptions {
  // platform:commission is the hot account the conformance suite exercises.
  return {
    balanceShards: (account) => (account.startsWith("platform:") || account.startsWith("psp:") ? 8 : 1),
  };
}
