import type { Knex } from "knex";
import type { StoreDialect } from "../dialect.js";
import { detectDialect } from "../dialect.js";
import type { ShardPolicy } from "../repositories/balance-rows.js";
import { postgresDialect } from "./postgres/index.js";
import type { SqliteSynchronous } from "./sqlite/connection.js";
import { sqliteDialect } from "./sqlite/index.js";

/** The dialect of the host's knex instance. */
export function openDialect(
  knex: Knex,
  options: { readonly shards: ShardPolicy; readonly sqliteSynchronous: SqliteSynchronous },
): StoreDialect {
  const context = { knex, shards: options.shards };
  return detectDialect(knex) === "postgres"
    ? postgresDialect(context)
    : sqliteDialect(context, options.sqliteSynchronous);
}
