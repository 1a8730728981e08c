import knexFactory, { type Knex } from "knex";
import { afterAll, describe, expect, it } from "vitest";
import { knexStore, TABLES } from "../src/index.js";
import { migrationSource } from "../src/migrations/index.js";
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

  it("0014 repairs two current runs of one period (the newest stays current) before refusing a pair", async () => {
    const db = await open();
    cleanups.push(async () => {
      await db.drop();
      await db.knex.destroy().catch(() => {});
    });
    const store = knexStore(db.knex);
    await store.migrate();
    const config = { migrationSource, tableName: TABLES.migrations };
    // Roll back to just before 0014, whatever came after it.
    const applied = async () =>
      ((await db.knex.migrate.list(config))[0] as { name?: string; file?: string }[]).map(
        (m) => m.name ?? m.file ?? String(m),
      );
    while ((await applied()).includes("0014-one-current-reconciliation")) await db.knex.migrate.down(config);
    expect(await applied()).toContain("0013-daily-task-runs");
    const time = (iso: string) => (store.dialect === "sqlite" ? Date.parse(iso) : new Date(iso));
    const run = (id: string, createdAt: string, periodTo = "2026-03-02T00:00:00.000Z") => ({
      id,
      psp_id: "sandbox",
      period_from: time("2026-03-01T00:00:00.000Z"),
      period_to: time(periodTo),
      source: "sandbox_csv",
      source_checksum: id,
      status: "completed",
      record_count: 1,
      bank_line_count: 0,
      discrepancy_count: 0,
      totals: "[]",
      version: 2,
      created_at: time(createdAt),
    });
    // What the race could leave: two (here three) completed runs of one period; another period's stays.
    await db
      .knex(TABLES.reconciliationRuns)
      .insert([
        run("run_old", "2026-03-02T06:00:00.000Z"),
        run("run_new", "2026-03-02T06:00:00.002Z"),
        run("run_mid", "2026-03-02T06:00:00.001Z"),
        run("run_other", "2026-03-02T06:00:00.000Z", "2026-03-03T00:00:00.000Z"),
      ]);
    await store.migrate();
    const rows = await db
      .knex(TABLES.reconciliationRuns)
      .select("id", "status", "superseded_by", "version")
      .orderBy("id");
    expect(rows.map((r) => [r.id, r.status, r.superseded_by ?? null, Number(r.version)])).toEqual([
      ["run_mid", "superseded", "run_new", 3],
      ["run_new", "completed", null, 2],
      ["run_old", "superseded", "run_new", 3],
      ["run_other", "completed", null, 2],
    ]);
    await expect(
      db.knex(TABLES.reconciliationRuns).insert(run("run_again", "2026-03-02T07:00:00.000Z")),
    ).rejects.toThrow();
  });
});

describe("knexStore", () => {
  it("refuses a knex client it does not support", () => {
    const mysql = knexFactory({ client: "mysql2" });
    expect(() => knexStore(mysql)).toThrow(/supports better-sqlite3 and pg/);
  });
});
