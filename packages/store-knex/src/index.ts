export type { Dialect } from "./dialect.js";
export { requirePrimary } from "./dialects/postgres/primary.js";
export type { SqliteSynchronous } from "./dialects/sqlite/connection.js";
export type { KnexStore, KnexStoreOptions } from "./knex-store.js";
export { defaultBalanceShards, knexStore } from "./knex-store.js";
export type { ShardPolicy } from "./repositories/balance-rows.js";
export { TABLES } from "./tables.js";
