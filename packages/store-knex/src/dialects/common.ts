import type { Knex } from "knex";
import type { SqlAdapter } from "../dialect.js";

/** The parts of an adapter both dialects write the same way. */
export function commonAdapter(knex: Knex): Pick<SqlAdapter, "json" | "text" | "columns"> {
  const cast = (column: string, alias = column) => knex.raw("CAST(?? AS TEXT) AS ??", [column, alias]);
  return {
    json: (value) => JSON.stringify(value ?? null),
    text: cast,
    columns: (columns, money) => [...columns, ...money.map((column) => cast(column))],
  };
}

/**
 * A statement knex's builder composed, as a text with `?` placeholders and its bindings. Announced
 * as knex announces the queries it runs (the `query` event of the knex instance and of the
 * transaction), so a host's query logging and tracing still see settlekit's statements.
 */
export function compile(
  db: Knex | Knex.Transaction,
  query: Knex.QueryBuilder,
): { text: string; params: readonly unknown[] } {
  const compiled = query.toSQL();
  if (Array.isArray(compiled)) throw new Error("settlekit composes one statement per query");
  const client = db.client as Knex.Client & { listenerCount(event: string): number };
  if (client.listenerCount("query") > 0) {
    client.emit("query", {
      sql: compiled.sql,
      bindings: compiled.bindings,
      method: compiled.method,
      __knexTxId: (db as { txid?: string }).txid,
    });
  }
  return { text: compiled.sql, params: compiled.bindings };
}

/**
 * Throws when `db` is a transaction that has already ended, as knex's own query runner does: a
 * transaction whose BEGIN failed still runs its callback (knex marks it completed and rejects
 * it), and a statement sent straight to the connection then would run — and commit — outside it.
 */
export function assertOpen(db: Knex | Knex.Transaction): void {
  const trx = db as Partial<Knex.Transaction>;
  if (trx.isTransaction && trx.isCompleted?.()) {
    throw new Error("Transaction query already complete: the transaction ended before this statement");
  }
}

/** Runs `fn` on a connection of `db` (inside a transaction its own one; release is then a no-op). */
export async function withConnection<C, T>(
  db: Knex | Knex.Transaction,
  fn: (connection: C) => T | Promise<T>,
): Promise<T> {
  assertOpen(db);
  const client = db.client as Knex.Client;
  const connection: C = await client.acquireConnection();
  try {
    return await fn(connection);
  } finally {
    await client.releaseConnection(connection);
  }
}
