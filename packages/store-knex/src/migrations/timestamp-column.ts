import type { Knex } from "knex";
import { detectDialect } from "../dialect.js";

/** Timestamps: timestamptz on Postgres, epoch milliseconds on SQLite (exact and sortable). */
export function timestamp(knex: Knex, table: Knex.CreateTableBuilder, name: string): Knex.ColumnBuilder {
  return detectDialect(knex) === "postgres" ? table.timestamp(name, { useTz: true }) : table.bigInteger(name);
}
