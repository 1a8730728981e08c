import type { Journal } from "@settlekit/core";
import { createLedger } from "@settlekit/core";
import { describe, expect, it } from "vitest";
import { knexStore } from "../src/index.js";
import { postgresSchema, sqliteKnex, tempSqliteFile } from "./support/databases.js";

const journal = (reference: string, amount: bigint): Journal => ({
  id: `id-${reference}`,
  reference,
  kind: "transfer",
  metadata: {},
  createdAt: new Date(0),
  postings: [
    { account: "seller:S1:available", currency: "USD", direction: "debit", amount },
    { account: "platform:commission", currency: "USD", direction: "credit", amount },
  ],
});

async function sqliteFile() {
  const file = tempSqliteFile();
  const knex = sqliteKnex(file.filename);
  return {
    knex,
    drop: async () => {
      await knex.destroy();
      file.remove();
    },
  };
}

describe.each([
  ["SQLite", sqliteFile],
  ["Postgres", () => postgresSchema(8)],
])("group commit outside transactions (store.ledger) on %s", (_name, open) => {
  it("fails a journal the database rejects on its own, committing the rest of its group", async () => {
    const { knex, drop } = await open();
    try {
      const store = knexStore(knex);
      await store.migrate();
      // Core never sends an amount beyond int64; the adapter must still contain the damage if one
      // arrives (better-sqlite3 refuses to bind it, Postgres rejects it) to that one journal.
      const results = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) =>
          store.ledger.insertJournal(journal(`g-${i}`, i === 17 ? 2n ** 70n : 10n)),
        ),
      );
      expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
      expect(results[17]?.status).toBe("rejected");
      expect(results.filter((r) => r.status === "fulfilled" && r.value.inserted)).toHaveLength(39);
      const ledger = createLedger(store);
      expect((await ledger.balance("seller:S1:available", "USD")).balance).toBe(390n);
      expect(await ledger.journal("g-17")).toBeNull();
      expect(await ledger.trialBalance()).toEqual(new Map([["USD", 0n]]));
    } finally {
      await drop();
    }
  });
});

describe("SQLite durability", () => {
  it("syncs every commit by default and can be told not to", async () => {
    const knex = sqliteKnex(tempSqliteFile().filename);
    const relaxed = sqliteKnex(tempSqliteFile().filename);
    try {
      await knexStore(knex).migrate();
      await knexStore(relaxed, { sqliteSynchronous: "normal" }).migrate();
      const [full] = await knex.raw("PRAGMA synchronous");
      const [normal] = await relaxed.raw("PRAGMA synchronous");
      expect([full.synchronous, normal.synchronous]).toEqual([2, 1]);
    } finally {
      await knex.destroy();
      await relaxed.destroy();
    }
  });
});
