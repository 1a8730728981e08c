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
  /**
   * An INSERT whose outcome nobody reads (no RETURNING, no count). Inside a Postgres transaction it
   * waits and travels with the transaction's next statement, or before its commit (see
   * `flushDeferred`), saving a round trip; an error it raises then fails that statement and the
   * transaction. Elsewhere it runs at once.
   */
  defer(text: string, params: readonly unknown[]): Promise<void>;
}

interface Deferred {
  readonly text: string;
  readonly params: readonly unknown[];
  /** The table it inserts into: a statement reading it must not travel with it (same snapshot). */
  readonly table: string;
}

/** Deferred inserts by transaction (all repositories of one transaction share its object). */
const deferredBy = new WeakMap<object, Deferred[]>();

const INSERT_INTO = /^INSERT INTO (\w+)/;

/**
 * `text` with the deferred inserts in front as data-modifying CTEs — `WITH d0 AS (INSERT …), d1 AS
 * (INSERT …) <text>` — one statement, one round trip. Postgres runs each CTE exactly once, to
 * completion, whether or not anything reads it, and checks foreign keys at the end of the
 * statement. All parts share one snapshot, so `text` must not read a table they write: then they
 * go first, alone (the caller checks).
 */
function withDeferred(deferred: readonly Deferred[], text: string, params: readonly unknown[]) {
  const ctes = deferred.map((d, i) => `d${i} AS (${d.text})`).join(", ");
  return { text: `WITH ${ctes} ${text}`, params: [...deferred.flatMap((d) => d.params), ...params] };
}

interface PgConnection {
  query(config: { name?: string; text: string; values: readonly unknown[] }): Promise<{
    rows: Row[];
    rowCount: number | null;
  }>;
}

const pgStatements = new Map<string, { name: string; text: string }>();
/**
 * Texts prepared by name. Each is a prepared statement on every connection that runs it, so the
 * set is bounded: row counts of multi-row inserts and combinations of deferred inserts make it
 * larger than the code's list of statements, and past the bound a text runs unnamed.
 */
const MAX_NAMED = 1024;

/** `?` → `$1, $2…` and a stable name, once per text (settlekit's texts never hold a literal `?`). */
function pgStatement(text: string): { name?: string; text: string } {
  let statement = pgStatements.get(text);
  if (!statement) {
    let n = 0;
    const pgText = text.replace(/\?/g, () => `$${++n}`);
    if (pgStatements.size >= MAX_NAMED) return { text: pgText };
    statement = { name: statementName(pgText), text: pgText };
    pgStatements.set(text, statement);
  }
  return statement;
}

export function execFor(db: Knex | Knex.Transaction, dialect: Dialect): Exec {
  const client = db.client as Knex.Client;
  const inTransaction = (db as { isTransaction?: boolean }).isTransaction === true;
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
    /** Runs `text`, taking the transaction's deferred inserts along when it can. */
    const query = (text: string, params: readonly unknown[]) =>
      withConnection(async (c) => {
        const connection = c as PgConnection;
        const deferred = inTransaction ? deferredBy.get(db) : undefined;
        if (deferred?.length) {
          deferredBy.delete(db);
          // A WITH statement cannot take more CTEs in front, nor may `text` read what they write.
          if (/^WITH\b/.test(text) || deferred.some((d) => text.includes(d.table))) {
            await sendDeferred(connection, deferred);
          } else {
            const combined = withDeferred(deferred, text, params);
            return connection.query({ ...pgStatement(combined.text), values: combined.params });
          }
        }
        return connection.query({ ...pgStatement(text), values: params });
      });
    return {
      all: async (text, params) => (await query(text, params)).rows,
      run: async (text, params) => (await query(text, params)).rowCount ?? 0,
      async defer(text, params) {
        if (!inTransaction) {
          await query(text, params);
          return;
        }
        const table = INSERT_INTO.exec(text)?.[1];
        if (!table) throw new Error(`Only an INSERT can be deferred: ${text}`);
        const deferred = deferredBy.get(db) ?? [];
        // The CTEs of one statement run in no set order: two inserts into one table (the chunks
        // of a long append, whose sequence numbers must follow the call order) go out one by one.
        if (deferred.some((d) => d.table === table)) {
          deferredBy.delete(db);
          await withConnection((c) => sendDeferred(c as PgConnection, deferred));
          deferredBy.set(db, [{ text, params, table }]);
          return;
        }
        deferred.push({ text, params, table });
        deferredBy.set(db, deferred);
      },
    };
  }
  const run = (text: string, params: readonly unknown[]) =>
    withConnection((c) => (c as SqliteDatabase).prepare(text).run(...params).changes);
  return {
    all: (text, params) => withConnection((c) => (c as SqliteDatabase).prepare(text).all(...params) as Row[]),
    run,
    // No round trips to save on SQLite.
    defer: async (text, params) => void (await run(text, params)),
  };
}

/** The deferred inserts as one statement: the last one's INSERT with the others in front. */
function sendDeferred(connection: PgConnection, deferred: readonly Deferred[]) {
  const last = deferred[deferred.length - 1]!;
  const { text, params } =
    deferred.length === 1 ? last : withDeferred(deferred.slice(0, -1), last.text, last.params);
  return connection.query({ ...pgStatement(text), values: params });
}

/** Sends the deferred inserts of the Postgres transaction `trx` (see `Exec.defer`). */
async function flushDeferred(trx: Knex.Transaction): Promise<void> {
  const deferred = deferredBy.get(trx);
  if (!deferred?.length) return;
  deferredBy.delete(trx);
  const client = trx.client as Knex.Client;
  const connection = (await client.acquireConnection()) as PgConnection;
  await sendDeferred(connection, deferred);
}

/**
 * Runs `fn` in the Postgres transaction `trx` with inserts deferred (`Exec.defer`): they go out
 * before any statement knex builds in it (those do not pass through `Exec`) and before its
 * commit; when `fn` throws they are dropped, as the transaction rolls back.
 */
export async function withDeferredInserts<T>(trx: Knex.Transaction, fn: () => Promise<T>): Promise<T> {
  const client = trx.client as Knex.Client & { query(connection: unknown, query: unknown): Promise<unknown> };
  const query = client.query.bind(client);
  // Synchronous when nothing waits: knex checks on the call itself whether the transaction has
  // completed (its COMMIT and ROLLBACK come through here too).
  client.query = (connection: unknown, q: unknown) =>
    deferredBy.get(trx)?.length ? flushDeferred(trx).then(() => query(connection, q)) : query(connection, q);
  let result: T;
  try {
    result = await fn();
  } catch (error) {
    deferredBy.delete(trx);
    throw error;
  }
  await flushDeferred(trx);
  return result;
}
