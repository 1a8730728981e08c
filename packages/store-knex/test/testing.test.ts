import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { knexStore } from "../src/index.js";
import { countRows, openTestDatabase, TABLES } from "../src/testing.js";

describe("@settlekit/store-knex/testing", () => {
  it("opens SQLite in memory, migrates, counts rows, and closes (twice is fine)", async () => {
    const db = await openTestDatabase("sqlite");
    expect(db.dialect).toBe("sqlite");
    expect(db.location).toBe(":memory:");
    await knexStore(db.knex).migrate();
    const counts = await countRows(db.knex);
    expect(counts[TABLES.payments]).toBe(0);
    expect(Object.keys(counts)).toContain(TABLES.journals);
    await db.close();
    await db.close();
    await expect(db.knex.raw("SELECT 1")).rejects.toThrow();
  });

  it("opens a SQLite file in a temp folder and removes it on close", async () => {
    const db = await openTestDatabase("sqlite-file");
    await knexStore(db.knex).migrate();
    expect(existsSync(db.location)).toBe(true);
    await db.close();
    expect(existsSync(db.location)).toBe(false);
  });

  it("opens a Postgres schema of its own (searchPath) and drops it on close", async () => {
    const db = await openTestDatabase("postgres", { poolMax: 2, schemaPrefix: "sk_testing" });
    expect(db.dialect).toBe("postgres");
    expect(db.location).toMatch(/^sk_testing_[0-9a-f]{16}$/);
    await knexStore(db.knex).migrate();
    expect((await countRows(db.knex))[TABLES.payments]).toBe(0);
    const other = await openTestDatabase("postgres", { poolMax: 1 });
    try {
      const schemas = async () =>
        (
          await other.knex.raw<{ rows: { n: number }[] }>(
            "SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name = ?",
            [db.location],
          )
        ).rows[0]?.n;
      expect(await schemas()).toBe(1);
      await db.close();
      expect(await schemas()).toBe(0);
    } finally {
      await other.close();
    }
  });

  it("fails, never skips, when PostgreSQL cannot be reached", async () => {
    await expect(
      openTestDatabase("postgres", { url: "postgres://postgres@127.0.0.1:1/test" }),
    ).rejects.toThrow(/PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/test is required/);
  });
});
