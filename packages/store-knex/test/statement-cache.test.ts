import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { prepared } from "../src/dialects/sqlite/exec.js";
import type { SqliteDatabase } from "../src/dialects/sqlite/types.js";

describe("prepared statement cache (SQLite)", () => {
  it("reuses a statement per SQL text, evicts the least recently used, and keeps the integer mode whatever knex sets on its own", () => {
    const raw = new Database(":memory:");
    const db = raw as unknown as SqliteDatabase;
    try {
      const a = prepared(db, "SELECT 9007199254740993 AS n", 2);
      expect(prepared(db, "SELECT 9007199254740993 AS n", 2)).toBe(a);
      // The connection's own prepare is left alone: what knex prepares never shares settlekit's
      // statements, so a query knex runs with `safeIntegers` cannot change their integer mode.
      expect(raw.prepare).toBe(Database.prototype.prepare);
      const knexOwn = raw.prepare("SELECT 9007199254740993 AS n");
      expect(knexOwn).not.toBe(a);
      knexOwn.safeIntegers(true);
      expect((knexOwn.get() as { n: bigint }).n).toBe(9007199254740993n);
      expect(typeof (prepared(db, "SELECT 9007199254740993 AS n", 2).get() as { n: unknown }).n).toBe(
        "number",
      );
      const b = prepared(db, "SELECT 2", 2);
      prepared(db, "SELECT 9007199254740993 AS n", 2); // a is now the most recent
      prepared(db, "SELECT 3", 2); // evicts b
      expect(prepared(db, "SELECT 9007199254740993 AS n", 2)).toBe(a);
      expect(prepared(db, "SELECT 2", 2)).not.toBe(b);
    } finally {
      raw.close();
    }
  });
});
