import type { Knex } from "knex";
import type { Dialect } from "./dialect.js";
import { statementName } from "./pg-statement-names.js";
import type { SqliteDatabase } from "./sqlite-connection.js";

export type Row = Record<string, unknown>;

/**
 * Runs settlekit's hot statements straight on the connection, past knex's query builder: the
 * text is written once (with `?` placeholders), so building and compiling it per call is wasted
 * work, and on the lifecycle's hot path that work cost more CPU than the database did. On
 * Postgres each text becomes a named prepared statement (`$n` placeholders, parsed once per
 * connection); on SQLite the connection's statement cache keeps it prepared.
 */
export interface Exec {
  /** The rows of a SELECT, or of a write with RETURNING. */
  all(text: string, params: readonly unknown[]): Promise<Row[]>;
  /** A write: how many rows it changed. */
  run(text: string, params: readonly unknown[]): Promise<number>;
}

interface PgConnection {
  query(config: { name: string; text: string; values: readonly unknown[] }): Promise<{
    rows: Row[];
    rowCount: number | null;
  }>;
}

const pgStatements = new Map<string, { name: string; text: string }>();

/** `?` → `$1, $2…` and a stable name, once per text (settlekit's texts never hold a literal `?`). */
function pgStatement(text: string): { name: string; text: string } {
  let statement = pgStatements.get(text);
  if (!statement) {
    let n = 0;
    const pgText = text.replace(/\?/g, () => `$${++n}`);
    statement = { name: statementName(pgText), text: pgText };
    pgStatements.set(text, statement);
  }
  return statement;
}

export function execFor(db: Knex | Knex.Transaction, dialect: Dialect): Exec {
  const client = db.client as Knex.Client;
  // Inside a transaction the client hands out the transaction's own connection (release is a no-op).
  async function withConnection<T>(fn: (connection: unknown) => T | Promise<T>): Promise<T> {
    const connection: unknown = await client.acquireConnection();
    try {
      return await fn(connection);
    } finally {
      await client.releaseConnection(connection);
    }
  }
  if (dialect === "postgres") {
    return {
      all: (text, params) =>
        withConnection(
          async (c) => (await (c as PgConnection).query({ ...pgStatement(text), values: params })).rows,
        ),
      run: (text, params) =>
        withConnection(
          async (c) =>
            (await (c as PgConnection).query({ ...pgStatement(text), values: params })).rowCount ?? 0,
        ),
    };
  }
  return {
    all: (text, params) => withConnection((c) => (c as SqliteDatabase).prepare(text).all(...params) as Row[]),
    run: (text, params) => withConnection((c) => (c as SqliteDatabase).prepare(text).run(...params).changes),
  };
}
