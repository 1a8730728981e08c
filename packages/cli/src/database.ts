import { isAbsolute, resolve } from "node:path";
import type { KnexStore } from "@settlekit/store-knex";
import { knexStore } from "@settlekit/store-knex";
import knexFactory, { type Knex } from "knex";
import { CliUsageError } from "./exit-codes.js";
import type { CliIo } from "./io.js";

/** A database the CLI opened: the knex instance, the settlekit store on it, and how to close both. */
export interface OpenDatabase {
  readonly url: string;
  readonly dialect: "sqlite" | "postgres";
  readonly knex: Knex;
  readonly store: KnexStore;
  close(): Promise<void>;
}

/**
 * The database URL of a command: `--db`, else `DATABASE_URL`. `postgres://…` / `postgresql://…`
 * is PostgreSQL; anything else is a SQLite file (`sqlite:shop.db`, `file:shop.db` or a path,
 * relative to the working directory).
 */
export function databaseUrl(option: string | undefined, io: CliIo): string {
  const url = option ?? io.env.DATABASE_URL;
  if (url === undefined || url.trim() === "") {
    throw new CliUsageError(
      "No database: pass --db <url> or set DATABASE_URL (a postgres:// URL or a SQLite file).",
    );
  }
  return url.trim();
}

export function openDatabase(url: string, io: CliIo): OpenDatabase {
  let knex: Knex;
  let dialect: OpenDatabase["dialect"];
  if (/^postgres(ql)?:\/\//i.test(url)) {
    dialect = "postgres";
    knex = knexFactory({ client: "pg", connection: url, pool: { min: 0, max: 4 } });
  } else {
    dialect = "sqlite";
    const path = url.replace(/^(sqlite|file):(\/\/)?/i, "");
    const filename = path === ":memory:" || isAbsolute(path) ? path : resolve(io.cwd, path);
    knex = knexFactory({ client: "better-sqlite3", connection: { filename }, useNullAsDefault: true });
  }
  const store = knexStore(knex);
  return { url, dialect, knex, store, close: () => knex.destroy() };
}

/** The URL with its password masked, for messages. */
export const redact = (url: string): string => url.replace(/(\/\/[^:/@]+:)[^@]*@/, "$1***@");
