/** The slice of a better-sqlite3 `Database` settlekit uses. */
export interface SqliteDatabase {
  readonly memory: boolean;
  /** The database file's path. */
  readonly name: string;
  readonly inTransaction: boolean;
  /** Opened read-only (better-sqlite3's `readonly` option). */
  readonly readonly: boolean;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  prepare(sql: string): SqliteStatement;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): SqliteTransaction<A, R>;
}

export interface SqliteStatement {
  /** Whether it returns rows (a SELECT, or a write with RETURNING). */
  readonly reader: boolean;
  run(...params: unknown[]): { changes: number };
  all(...params: unknown[]): unknown[];
  get(...params: unknown[]): unknown;
  safeIntegers(toggle?: boolean): SqliteStatement;
}

export interface SqliteTransaction<A extends unknown[], R> {
  (...args: A): R;
  immediate(...args: A): R;
}
