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

/** A statement knex's builder composed, as a text with `?` placeholders and its bindings. */
export function compile(query: Knex.QueryBuilder): { text: string; params: readonly unknown[] } {
  const compiled = query.toSQL();
  if (Array.isArray(compiled)) throw new Error("settlekit composes one statement per query");
  return { text: compiled.sql, params: compiled.bindings };
}

/** Runs `fn` on a connection of `db` (inside a transaction its own one; release is then a no-op). */
export async function withConnection<C, T>(
  db: Knex | Knex.Transaction,
  fn: (connection: C) => T | Promise<T>,
): Promise<T> {
  const client = db.client as Knex.Client;
  const connection: C = await client.acquireConnection();
  try {
    return await fn(connection);
  } finally {
    await client.releaseConnection(connection);
  }
}
