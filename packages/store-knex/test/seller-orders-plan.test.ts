import type { Knex } from "knex";
import { afterAll, describe, expect, it } from "vitest";
import { knexStore } from "../src/index.js";
import { postgresSchema, sqliteKnex } from "./support/databases.js";

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/** The statement knex sent for `listBySeller`, with its bindings. */
async function listBySellerSql(
  knex: Knex,
  query: { beforeId?: string; statuses?: readonly ("succeeded" | "pending")[] },
) {
  const store = knexStore(knex);
  await store.migrate();
  let sent: { sql: string; bindings: readonly unknown[] } | undefined;
  const capture = (q: { sql: string; bindings?: readonly unknown[] }) => {
    if (/settlekit_payment_orders/.test(q.sql) && /order by/i.test(q.sql))
      sent = { sql: q.sql, bindings: q.bindings ?? [] };
  };
  knex.on("query", capture);
  try {
    await store.transaction((tx) => tx.paymentOrders.listBySeller({ sellerId: "S1", limit: 20, ...query }), {
      readOnly: true,
    });
  } finally {
    knex.off("query", capture);
  }
  if (!sent) throw new Error("listBySeller sent no statement");
  return sent;
}

const QUERIES = [
  ["first page", {}],
  ["a later page of some statuses", { beforeId: "po_anchor", statuses: ["succeeded", "pending"] }],
] as const;

describe("a seller's orders are read in index order, never sorted", () => {
  it.each(QUERIES)("SQLite: %s", async (_name, query) => {
    const knex = sqliteKnex();
    cleanups.push(() => knex.destroy());
    const { sql, bindings } = await listBySellerSql(knex, query);
    const plan = (await knex.raw(`EXPLAIN QUERY PLAN ${sql}`, bindings as Knex.RawBinding[])) as {
      detail: string;
    }[];
    const details = plan.map((row) => row.detail).join("\n");
    expect(details).toMatch(/settlekit_payment_orders_seller_by_date/);
    expect(details).not.toMatch(/TEMP B-TREE/);
  });

  it.each(QUERIES)("Postgres: %s", async (_name, query) => {
    const db = await postgresSchema(1);
    cleanups.push(db.drop);
    const { sql, bindings } = await listBySellerSql(db.knex, query);
    const plan = await db.knex.transaction(async (trx) => {
      // An empty table would be scanned whole whatever its indexes: ask for the index plan.
      await trx.raw("SET LOCAL enable_seqscan = off");
      const { rows } = await trx.raw(`EXPLAIN ${sql.replace(/\$\d+/g, "?")}`, bindings as Knex.RawBinding[]);
      return (rows as { "QUERY PLAN": string }[]).map((row) => row["QUERY PLAN"]).join("\n");
    });
    expect(plan).toMatch(/settlekit_payment_orders_seller_by_date/);
    expect(plan).not.toMatch(/Sort/);
  });
});
