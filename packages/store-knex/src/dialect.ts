import type { Knex } from "knex";

export type Dialect = "sqlite" | "postgres";

/** Which SQL dialect a host's knex instance speaks; settlekit supports better-sqlite3 and pg. */
export function detectDialect(knex: Knex): Dialect {
  const client = String((knex.client as { config?: { client?: unknown } }).config?.client ?? "");
  const driver = (knex.client as { dialect?: string }).dialect ?? "";
  if (["better-sqlite3", "sqlite3"].includes(client) || driver === "sqlite3") return "sqlite";
  if (["pg", "postgres", "postgresql"].includes(client) || driver === "postgresql") return "postgres";
  throw new Error(
    `@settlekit/store-knex supports better-sqlite3 and pg; got knex client "${client || driver}".`,
  );
}

/** Per-dialect value conversions, so repositories read and write the same way on both. */
export interface Sql {
  readonly dialect: Dialect;
  /** A bigint for a BIGINT column (pg gets a decimal string: exact whatever the host's pg config). */
  int(value: bigint): Knex.Value;
  /** An instant for a timestamp column (SQLite keeps epoch milliseconds). */
  time(value: Date): Date | number;
  /** A JSON document for a json column. */
  json(value: unknown): string;
  /** `CAST(col AS TEXT)`: read money columns as exact decimal strings on both dialects. */
  text(column: string, alias?: string): Knex.Raw;
  /** A select list: `columns` as they are, `money` columns cast to exact text. */
  columns(columns: readonly string[], money: readonly string[]): (string | Knex.Raw)[];
}

export function sqlFor(knex: Knex, dialect: Dialect): Sql {
  return {
    dialect,
    // better-sqlite3 binds bigint natively (knex's types do not know it); pg gets exact text.
    int: (value) => (dialect === "postgres" ? value.toString() : (value as unknown as Knex.Value)),
    time: (value) => (dialect === "postgres" ? value : value.getTime()),
    json: (value) => JSON.stringify(value ?? null),
    text: (column, alias = column) => knex.raw("CAST(?? AS TEXT) AS ??", [column, alias]),
    columns: (columns, money) => [
      ...columns,
      ...money.map((column) => knex.raw("CAST(?? AS TEXT) AS ??", [column, column])),
    ],
  };
}

export function readDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === "number" || typeof value === "bigint") return new Date(Number(value));
  if (typeof value === "string") return /^\d+$/.test(value) ? new Date(Number(value)) : new Date(value);
  throw new TypeError(`Not a timestamp: ${String(value)}`);
}

export const readDateOrNull = (value: unknown): Date | null => (value == null ? null : readDate(value));

export function readJson<T>(value: unknown): T {
  return (typeof value === "string" ? JSON.parse(value) : value) as T;
}

export const readBigInt = (value: unknown): bigint => BigInt(value as string);

/** A nullable text column as an optional field (`null` → `undefined`). */
export const readOptional = (value: unknown): string | undefined =>
  value == null ? undefined : String(value);
