import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createLedger } from "@settlekit/core";
import { afterEach, describe, expect, it } from "vitest";
import { knexStore } from "../src/index.js";
import { sqliteKnex, tempSqliteFile } from "./support/databases.js";

const run = promisify(execFile);
const writer = fileURLToPath(new URL("./support/sqlite-writer.mjs", import.meta.url));

describe("SQLite file shared by several processes", () => {
  const file = tempSqliteFile();
  afterEach(() => file.remove());

  it("never deadlocks or loses a posting when four processes write the same accounts", async () => {
    const knex = sqliteKnex(file.filename);
    try {
      const store = knexStore(knex);
      await store.migrate();
      const perProcess = 150;
      // Each transaction reads (the reference check) before it writes; a store that did not take
      // the write lock first would hit SQLITE_BUSY on the read→write upgrade under contention.
      const outputs = await Promise.all(
        ["a", "b", "c", "d"].map((prefix) =>
          run(process.execPath, [writer, file.filename, prefix, String(perProcess)]),
        ),
      );
      // Not one transaction had to be retried: the write lock is taken up front, so writers wait
      // their turn (busy_timeout) instead of failing on a lock upgrade.
      expect(outputs.map((o) => JSON.parse(o.stdout))).toEqual(Array(4).fill({ retries: 0 }));
      const ledger = createLedger(store);
      expect((await ledger.balance("seller:S1:available", "USD")).balance).toBe(5n * 4n * BigInt(perProcess));
      expect(await ledger.trialBalance()).toEqual(new Map([["USD", 0n]]));
      const [row] = await knex.raw("PRAGMA journal_mode");
      expect(row.journal_mode).toBe("wal");
    } finally {
      await knex.destroy();
    }
  });
});
