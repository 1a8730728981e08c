import type { SqliteDatabase, SqliteStatement } from "./sqlite-connection.js";

/**
 * Makes a better-sqlite3 connection reuse prepared statements. knex's better-sqlite3 client calls
 * `db.prepare(sql)` for every query, and preparing costs more than running most of settlekit's
 * statements; settlekit's SQL texts repeat (bindings are parameters), so a bounded cache by text
 * removes almost all of it. A reused statement gets the connection's default integer mode back,
 * since knex only sets `safeIntegers` on queries that ask for it.
 */
export function cachePreparedStatements(
  db: SqliteDatabase,
  defaultSafeIntegers: boolean,
  capacity = 256,
): void {
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, SqliteStatement>();
  db.prepare = (sql: string) => {
    const hit = cache.get(sql);
    if (hit) {
      // Refresh its place in the LRU order.
      cache.delete(sql);
      cache.set(sql, hit);
      return hit.safeIntegers(defaultSafeIntegers);
    }
    const statement = prepare(sql);
    cache.set(sql, statement);
    if (cache.size > capacity) cache.delete(cache.keys().next().value as string);
    return statement;
  };
}
