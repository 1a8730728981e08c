import { afterEach, describe, expect, it } from "vitest";
import { transactionBatches } from "../src/dialects/sqlite/transaction-batches.js";
import { knexStore } from "../src/index.js";
import { sqliteKnex, tempSqliteFile } from "./support/databases.js";

const event = (id: string) => ({
  id,
  type: "test.event",
  aggregateType: "test",
  aggregateId: id,
  payload: { id },
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("SQLite transaction batches (group commit of whole transactions)", () => {
  it("commits concurrent writers in far fewer physical transactions, each writer all-or-nothing", async () => {
    const file = tempSqliteFile();
    const knex = sqliteKnex(file.filename);
    cleanups.push(async () => {
      await knex.destroy();
      file.remove();
    });
    const store = knexStore(knex);
    await store.migrate();
    let begins = 0;
    knex.on("query", (q: { sql: string }) => {
      if (/^begin/i.test(q.sql)) begins++;
    });
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        store.transaction(async (tx) => {
          await tx.outbox.append([event(`evt_${i}_a`)], new Date(0));
          // Writer 7 fails after its first write: that write must vanish, nobody else's.
          if (i === 7) throw new Error("writer 7 fails");
          await tx.outbox.append([event(`evt_${i}_b`)], new Date(0));
          return i;
        }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled").map((r) => r.value)).toEqual(
      Array.from({ length: 40 }, (_, i) => i).filter((i) => i !== 7),
    );
    const rejected = results[7] as PromiseRejectedResult;
    expect(rejected.status).toBe("rejected");
    expect(String(rejected.reason)).toMatch(/writer 7 fails/);
    const stored = await store.transaction((tx) => tx.outbox.listPending({ limit: 1000 }), {
      readOnly: true,
    });
    expect(stored).toHaveLength(78);
    expect(stored.some((e) => e.id.startsWith("evt_7_"))).toBe(false);
    expect(begins).toBeGreaterThan(0);
    expect(begins).toBeLessThanOrEqual(4); // 40 writers, one after another, would be 40
  });

  it("answers nobody before the commit, and fails every writer of a batch whose commit fails", async () => {
    const statements: string[] = [];
    const trx = { raw: async (sql: string) => void statements.push(sql) };
    let failCommit = true;
    const run = transactionBatches(
      async (body: (t: typeof trx, savepoints: typeof trx) => Promise<void>) => {
        await body(trx, trx);
        statements.push("COMMIT");
        if (failCommit) throw new Error("disk I/O error");
      },
      () => ({}),
    );
    const settled: string[] = [];
    const writers = [1, 2, 3].map((n) =>
      run(async () => n).then(
        (v) => settled.push(`ok ${v}`),
        (e: Error) => settled.push(`failed ${e.message}`),
      ),
    );
    await Promise.all(writers);
    expect(settled).toEqual(["failed disk I/O error", "failed disk I/O error", "failed disk I/O error"]);
    // All three ran in one physical transaction, each in its own savepoint, then one commit.
    expect(statements.filter((s) => s === "SAVEPOINT settlekit_tx")).toHaveLength(3);
    expect(statements.filter((s) => s === "COMMIT")).toHaveLength(1);
    failCommit = false;
    await expect(run(async () => "fine")).resolves.toBe("fine");
  });
});
