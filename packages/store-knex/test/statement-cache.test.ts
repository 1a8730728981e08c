import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import type { SqliteDatabase } from "../src/sqlite-connection.js";
import { cachePreparedStatements } from "../src/statement-cache.js";

describe("prepared statement cache (SQLite)", () => {
  it("reuses a statement per SQL text, evicts the least recently used, and resets integer mode", () => {
    const db = new Database(":memory:");
    try {
      cachePreparedStatements(db as unknown as SqliteDatabase, false, 2);
      const a = db.prepare("SELECT 9007199254740993 AS n");
      expect(db.prepare("SELECT 9007199254740993 AS n")).toBe(a);
      a.safeIntegers(true);
      expect((a.get() as { n: bigint }).n).toBe(9007199254740993n);
      // Handed out again: back to the connection's default (numbers), as knex expects.
      expect(typeof (db.prepare("SELECT 9007199254740993 AS n").get() as { n: unknown }).n).toBe("number");
      const b = db.prepare("SELECT 2");
      db.prepare("SELECT 9007199254740993 AS n"); // a is now the most recent
      db.prepare("SELECT 3"); // evicts b
      expect(db.prepare("SELECT 9007199254740993 AS n")).toBe(a);
      expect(db.prepare("SELECT 2")).not.toBe(b);
    } finally {
      db.close();
    }
  });
});
