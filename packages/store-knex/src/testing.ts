import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import knexFactory, { type Knex } from "knex";
import type { Dialect } from "./dialect.js";
import { detectDialect } from "./dialect.js";
import { TABLES } from "./tables.js";

/**
 * `@settlekit/store-knex/testing`: a database of its own for a test file — SQLite in memory or in
 * a temp file, or a fresh PostgreSQL schema — and its cleanup.
 *
 * ```ts
 * import { openTestDatabase } from "@settlekit/store-knex/testing";
 *
 * const db = await openTestDatabase("postgres"); // or "sqlite", or "sqlite-file"
 * const store = knexStore(db.knex);
 * await store.migrate();
 * // …
 * await db.close(); // drops the schema (or removes the file) and destroys the knex instance
 * ```
 *
 * PostgreSQL is never skipped: when it cannot be reached, `openTestDatabase` throws, naming the
 * URL, so a test suite that needs it fails (on CI and anywhere else) instead of passing without it.
 */

/** What {@link openTestDatabase} opens: `sqlite` in memory, `sqlite-file` in a temp file, `postgres` a schema. */
export type TestDatabaseKind = Dialect | "sqlite-file";

export interface TestDatabaseOptions {
  /** PostgreSQL's URL (default `SETTLEKIT_PG_URL`, else `postgres://postgres@127.0.0.1:5432/test`). */
  readonly url?: string;
  /** The Postgres pool's size (default 16). */
  readonly poolMax?: number;
  /** Prefix of the Postgres schema's name, for finding leftovers (default `sk_test`). */
  readonly schemaPrefix?: string;
}

export interface TestDatabase {
  readonly dialect: Dialect;
  /** A knex instance on the database (on Postgres, its `searchPath` is the test's schema). */
  readonly knex: Knex;
  /** The Postgres schema, or the SQLite file (`:memory:` in memory). */
  readonly location: string;
  /** Drops the schema or removes the file, and destroys the knex instance. Idempotent. */
  close(): Promise<void>;
}

/** The PostgreSQL the tests use: `SETTLEKIT_PG_URL`, else the local default. */
export const testPostgresUrl = (): string =>
  process.env.SETTLEKIT_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A knex instance on a SQLite database (in memory by default). */
export function sqliteKnex(filename = ":memory:"): Knex {
  return knexFactory({ client: "better-sqlite3", connection: { filename }, useNullAsDefault: true });
}

/** A path for a SQLite file in a temp folder of its own; `remove` deletes the folder. */
export function tempSqliteFile(): { readonly filename: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "settlekit-"));
  return { filename: join(dir, "store.sqlite"), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Opens a database of its own for a test (see the module's comment). */
export async function openTestDatabase(
  kind: TestDatabaseKind,
  options: TestDatabaseOptions = {},
): Promise<TestDatabase> {
  if (kind === "sqlite") {
    const knex = sqliteKnex();
    return { dialect: "sqlite", knex, location: ":memory:", close: once(() => knex.destroy()) };
  }
  if (kind === "sqlite-file") {
    const file = tempSqliteFile();
    const knex = sqliteKnex(file.filename);
    return {
      dialect: "sqlite",
      knex,
      location: file.filename,
      close: once(async () => {
        try {
          await knex.destroy();
        } finally {
          file.remove();
        }
      }),
    };
  }
  const url = options.url ?? testPostgresUrl();
  const schema = `${options.schemaPrefix ?? "sk_test"}_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = knexFactory({ client: "pg", connection: url, pool: { min: 0, max: 1 } });
  try {
    await admin.raw("CREATE SCHEMA ??", [schema]);
  } catch (error) {
    // Never a skip: tests that need PostgreSQL fail when it is missing.
    throw new Error(
      `PostgreSQL at ${url} is required for these tests (set SETTLEKIT_PG_URL): ${String(error)}`,
      { cause: error },
    );
  } finally {
    await admin.destroy();
  }
  const knex = knexFactory({
    client: "pg",
    connection: url,
    searchPath: [schema],
    pool: { min: 0, max: options.poolMax ?? 16 },
  });
  return {
    dialect: "postgres",
    knex,
    location: schema,
    close: once(async () => {
      try {
        await knex.raw("DROP SCHEMA IF EXISTS ?? CASCADE", [schema]);
      } finally {
        await knex.destroy();
      }
    }),
  };
}

/** Row count of every settlekit table in the database (its Postgres schema), by table name. */
export async function countRows(knex: Knex): Promise<Record<string, number>> {
  const tables: string[] =
    detectDialect(knex) === "postgres"
      ? (
          await knex("information_schema.tables")
            .whereRaw("table_schema = current_schema()")
            .where("table_name", "like", "settlekit_%")
        ).map((t: { table_name: string }) => t.table_name)
      : (await knex("sqlite_master").where("type", "table").where("name", "like", "settlekit_%")).map(
          (t: { name: string }) => t.name,
        );
  const counts: Record<string, number> = {};
  for (const table of tables.sort()) {
    const [row] = await knex(table).count({ n: "*" });
    counts[table] = Number(row?.n);
  }
  return counts;
}

export { TABLES };

function once(fn: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= fn();
    return closing;
  };
}
