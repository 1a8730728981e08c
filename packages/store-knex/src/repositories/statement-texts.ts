import type { Exec } from "../dialect.js";

/** `SELECT <columns> FROM <table>` with the money columns read as exact decimal text. */
export const selectFrom = (table: string, columns: readonly string[], money: readonly string[]): string =>
  `SELECT ${[...columns, ...money.map((c) => `CAST(${c} AS TEXT) AS ${c}`)].join(", ")} FROM ${table}`;

/** A compare-and-set UPDATE of `columns`: binds their values, then the id and the version it expects. */
export const updateFromVersion = (table: string, columns: readonly string[]): string =>
  `UPDATE ${table} SET ${columns.map((c) => `${c} = ?`).join(", ")} WHERE id = ? AND version = ?`;

/** Rows per INSERT statement: keeps bind parameters well under SQLite's and Postgres's limits. */
const ROWS_PER_STATEMENT = 100;
/** Statement texts kept per insert (by row count; a handful of counts occur in practice). */
const TEXTS_KEPT = 64;

/**
 * A statement text that depends on how many rows it carries, built once per count (the first
 * `TEXTS_KEPT` counts are kept) so each count stays one prepared statement.
 */
export function textPerCount(build: (count: number) => string): (count: number) => string {
  const texts = new Map<number, string>();
  return (count) => {
    let text = texts.get(count);
    if (!text) {
      text = build(count);
      if (texts.size < TEXTS_KEPT) texts.set(count, text);
    }
    return text;
  };
}

/**
 * A multi-row INSERT (`head` is `INSERT INTO t (…)`, `row` one row's `(?, …)`): one statement per
 * chunk of rows, its text built once per row count (`textPerCount`). Nothing reads its outcome, so
 * it is deferred (`Exec.defer`).
 */
export function multiRowInsert(
  head: string,
  row: string,
): (exec: Exec, rows: readonly (readonly unknown[])[]) => Promise<void> {
  const textFor = textPerCount((count) => `${head} VALUES ${Array(count).fill(row).join(", ")}`);
  return async (exec, rows) => {
    for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
      const chunk = rows.slice(start, start + ROWS_PER_STATEMENT);
      await exec.defer(textFor(chunk.length), chunk.flat());
    }
  };
}
