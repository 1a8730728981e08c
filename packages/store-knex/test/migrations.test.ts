import knexFactory, { type Knex } from "knex";
import { afterAll, describe, expect, it } from "vitest";
import { knexStore, TABLES } from "../src/index.js";
import { postgresSchema, sqliteKnex } from "./support/databases.js";

const SETTLEKIT_TABLES = [
  TABLES.journals,
  TABLES.postings,
  TABLES.balances,
  TABLES.outbox,
  TABLES.jobs,
  TABLES.idempotencyKeys,
  TABLES.writeLock,
  TABLES.payments,
  TABLES.paymentOrders,
  TABLES.refunds,
  TABLES.webhookEvents,
  TABLES.paymentAttempts,
  TABLES.disputes,
  TABLES.payouts,
  TABLES.payoutLines,
  TABLES.sellerPayoutAccounts,
];

async function existing(knex: Knex): Promise<string[]> {
  const found: string[] = [];
  for (const table of SETTLEKIT_TABLES) if (await knex.schema.hasTable(table)) found.push(table);
  return found;
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

describe.each([
  ["sqlite", async () => ({ knex: sqliteKnex(), drop: async () => {} })],
  ["postgres", () => postgresSchema(2)],
] as const)("migrations on %s", (_name, open) => {
  it("migrate creates every table, is idempotent, and migrateDown removes them all", async () => {
    const db = await open();
    cleanups.push(async () => {
      await db.drop();
      await db.knex.destroy().catch(() => {});
    });
    const store = knexStore(db.knex);
    expect(await existing(db.knex)).toEqual([]);
    await store.migrate();
    await store.migrate();
    expect(await existing(db.knex)).toEqual(SETTLEKIT_TABLES);
    await store.migrateDown();
    expect(await existing(db.knex)).toEqual([]);
    // And up again after a full down: the migration ledger was rolled back too.
    await store.migrate();
    expect(await existing(db.knex)).toEqual(SETTLEKIT_TABLES);
  });
});

describe("knexStore", () => {
  it("refuses a knex client it does not support", () => {
    const mysql = knexFactory({ client: "mysql2" });
    expect(() => knexStore(mysql)).toThrow(/supports better-sqlite3 and pg/);
  });
});
