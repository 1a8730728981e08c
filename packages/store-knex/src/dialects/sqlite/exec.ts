import type { Knex } from "knex";
import type { Exec, Row } from "../../dialect.js";
import { compile, withConnection } from "../common.js";
import type { SqliteDatabase, SqliteStatement } from "./types.js";

/** Prepared statements kept per connection (least recently used evicted past it). */
export const STATEMENTS_PER_CONNECTION = 256;

const caches = new WeakMap<SqliteDatabase, Map<string, SqliteStatement>>();

/**
 * `text` prepared on `db`, once per connection: preparing costs more than running most of
 * settlekit's statements, and its texts repeat (bindings are parameters), so a bounded cache by
 * text removes almost all of it. settlekit's own cache — knex's `prepare` calls (the host's
 * queries, migrations, BEGIN/COMMIT) are left as they are.
 */
export function prepared(
  db: SqliteDatabase,
  text: string,
  capacity = STATEMENTS_PER_CONNECTION,
): SqliteStatement {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  const hit = cache.get(text);
  if (hit) {
    // Refresh its place in the LRU order.
    cache.delete(text);
    cache.set(text, hit);
    return hit;
  }
  const statement = db.prepare(text);
  cache.set(text, statement);
  if (cache.size > capacity) cache.delete(cache.keys().next().value as string);
  return statement;
}

/** Bindings as knex's better-sqlite3 client passes them (better-sqlite3 takes neither Dates nor booleans). */
const binding = (value: unknown) =>
  value instanceof Date ? value.valueOf() : typeof value === "boolean" ? Number(value) : value;

/**
 * SQLite's {@link Exec}: statements run on the connection of `db`, prepared once (`prepared`).
 * Nothing is deferred: an embedded database has no round trips to save.
 */
export function sqliteExec(db: Knex | Knex.Transaction): Exec {
  const run = (text: string, params: readonly unknown[]) =>
    withConnection(db, (c: SqliteDatabase) => prepared(c, text).run(...params).changes);
  const all = (text: string, params: readonly unknown[]) =>
    withConnection(db, (c: SqliteDatabase) => prepared(c, text).all(...params) as Row[]);
  /** A composed statement: rows when it returns any (SELECT, RETURNING), else the rows it changed. */
  const composed = (q: Knex.QueryBuilder) => {
    const { text, params } = compile(db, q);
    const values = params.map(binding);
    return withConnection(db, (c: SqliteDatabase) => {
      const statement = prepared(c, text);
      return statement.reader ? (statement.all(...values) as Row[]) : statement.run(...values).changes;
    });
  };
  return {
    all,
    run,
    defer: async (text, params) => void (await run(text, params)),
    rows: async (q) => {
      const result = await composed(q);
      return typeof result === "number" ? [] : result;
    },
    first: async (q) => {
      const result = await composed(q);
      return typeof result === "number" ? undefined : result[0];
    },
    count: async (q) => {
      const result = await composed(q);
      return typeof result === "number" ? result : result.length;
    },
  };
}
