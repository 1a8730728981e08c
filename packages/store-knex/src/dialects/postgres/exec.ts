import type { Knex } from "knex";
import type { Exec, Row } from "../../dialect.js";
import { compile, withConnection } from "../common.js";
import { pgStatement } from "./statements.js";

/**
 * Postgres's {@link Exec}: each text runs as a named prepared statement (`statements.ts`) on the
 * connection of `db`, past knex's query runner — the text is written once, so building and
 * compiling it per call is wasted work, and on the lifecycle's hot path that work cost more CPU
 * than the database did. Statements the builder composes are compiled once per call and sent the
 * same way, so inserts deferred in a transaction (`defer`) travel with whatever comes next.
 */
export interface PgConnection {
  query(config: { name?: string; text: string; values: readonly unknown[] }): Promise<{
    rows: Row[];
    rowCount: number | null;
  }>;
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

/** The deferred inserts as one statement: the last one's INSERT with the others in front. */
function sendDeferred(connection: PgConnection, deferred: readonly Deferred[]) {
  const last = deferred[deferred.length - 1]!;
  const { text, params } =
    deferred.length === 1 ? last : withDeferred(deferred.slice(0, -1), last.text, last.params);
  return connection.query({ ...pgStatement(text), values: params });
}

export function postgresExec(db: Knex | Knex.Transaction): Exec {
  const inTransaction = (db as { isTransaction?: boolean }).isTransaction === true;
  /** Runs `text`, taking the transaction's deferred inserts along when it can. */
  const query = (text: string, params: readonly unknown[]) =>
    withConnection(db, async (connection: PgConnection) => {
      const deferred = inTransaction ? deferredBy.get(db) : undefined;
      if (deferred?.length) {
        deferredBy.delete(db);
        // A WITH statement cannot take more CTEs in front, nor may `text` read what they write.
        if (/^WITH\b/i.test(text) || deferred.some((d) => text.includes(d.table))) {
          await sendDeferred(connection, deferred);
        } else {
          const combined = withDeferred(deferred, text, params);
          return connection.query({ ...pgStatement(combined.text), values: combined.params });
        }
      }
      return connection.query({ ...pgStatement(text), values: params });
    });
  const composed = (q: Knex.QueryBuilder) => {
    const { text, params } = compile(db, q);
    return query(text, params);
  };
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
        await withConnection(db, (c: PgConnection) => sendDeferred(c, deferred));
        deferredBy.set(db, [{ text, params, table }]);
        return;
      }
      deferred.push({ text, params, table });
      deferredBy.set(db, deferred);
    },
    rows: async (q) => (await composed(q)).rows,
    first: async (q) => (await composed(q)).rows[0],
    count: async (q) => (await composed(q)).rowCount ?? 0,
  };
}

/**
 * Runs `fn` in the Postgres transaction `trx` with inserts deferred (`Exec.defer`): every
 * statement of the repositories goes through {@link postgresExec}, which sends them first; what
 * is still waiting when `fn` returns goes out before the COMMIT. When `fn` throws they are
 * dropped, as the transaction rolls back.
 */
export async function withDeferredInserts<T>(trx: Knex.Transaction, fn: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await fn();
  } catch (error) {
    deferredBy.delete(trx);
    throw error;
  }
  const deferred = deferredBy.get(trx);
  if (deferred?.length) {
    deferredBy.delete(trx);
    await withConnection(trx, (c: PgConnection) => sendDeferred(c, deferred));
  }
  return result;
}
