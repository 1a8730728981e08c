import { readdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { checkpointedFiles, checkpointThreads } from "../src/dialects/sqlite/checkpointer.js";
import { knexStore } from "../src/index.js";
import { sqliteKnex, tempSqliteFile } from "./support/databases.js";

const payload = { text: "x".repeat(2_000) };

describe("SQLite WAL checkpoints on a background thread", () => {
  it("copies committed pages into the database file without the writer doing it, and stops with knex", async () => {
    const file = tempSqliteFile();
    const knex = sqliteKnex(file.filename);
    try {
      const store = knexStore(knex);
      await store.migrate();
      expect(checkpointedFiles()).toContain(file.filename);
      expect(checkpointThreads()).toBe(1);
      const before = statSync(file.filename).size;
      // ~400 KB of WAL: far below the writer's own 10 000-page threshold, so only the
      // background thread can move it into the database file.
      for (let i = 0; i < 20; i++) {
        await store.transaction((tx) =>
          tx.outbox.append(
            Array.from({ length: 10 }, (_, j) => ({
              id: `e${i}_${j}`,
              type: "t",
              aggregateType: "a",
              aggregateId: `${i}`,
              payload,
            })),
            new Date(0),
          ),
        );
      }
      await expect
        .poll(() => statSync(file.filename).size - before, { timeout: 5_000, interval: 25 })
        .toBeGreaterThan(300_000);
      const pending = await store.transaction((tx) => tx.outbox.listPending({ limit: 1_000 }), {
        readOnly: true,
      });
      expect(pending).toHaveLength(200);
      // destroy waits for the thread to close its connection, so knex's is the last one: SQLite
      // checkpoints and removes the WAL files, and the directory can be removed at once.
      await knex.destroy();
      expect(checkpointedFiles()).not.toContain(file.filename);
      expect(checkpointThreads()).toBe(0);
      expect(readdirSync(dirname(file.filename))).toEqual(["store.sqlite"]);
    } finally {
      await knex.destroy();
      file.remove();
    }
  });
});
