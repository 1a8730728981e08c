import type { Knex } from "knex";
import type { DialectContext, SqlAdapter, StoreDialect } from "../../dialect.js";
import { commonAdapter } from "../common.js";
import { postgresExec, withDeferredInserts } from "./exec.js";
import { insertJournalPostgres, postgresJournalWriter } from "./journal.js";

/** Deadlock, serialization failure. */
const TRANSIENT = new Set(["40P01", "40001"]);

/**
 * PostgreSQL through pg: BIGINT money as exact decimal text, row locks (`FOR UPDATE`, claims with
 * `SKIP LOCKED`), every statement a named prepared statement, inserts nothing reads deferred to
 * the transaction's next statement, the ledger's journal as one statement.
 */
export function postgresDialect({ knex, shards }: DialectContext): StoreDialect {
  const adapter: SqlAdapter = {
    dialect: "postgres",
    ...commonAdapter(knex),
    int: (value) => value.toString(),
    time: (value) => value,
    lockText: (text, forUpdate) => (forUpdate ? `${text} FOR UPDATE` : text),
    lock: (query, forUpdate) => (forUpdate ? (query.forUpdate() as typeof query) : query),
    claimable: (query) => query.forUpdate().skipLocked() as typeof query,
    claimableText: (text) => `${text} FOR UPDATE SKIP LOCKED`,
    combinesUpdates: true,
    exec: postgresExec,
  };
  const isTransient = (error: unknown) => TRANSIENT.has(String((error as { code?: unknown } | null)?.code));
  return {
    adapter,
    isTransient,
    ready: async () => undefined,
    journalInsert: (trx) => (journal) => insertJournalPostgres(trx, journal, shards),
    autocommitJournalInsert(retry) {
      // Group commit outside transactions: one statement per group.
      const write = postgresJournalWriter(knex, shards, isTransient);
      return (journal) => retry(() => write(journal));
    },
    transactions: (repositories, retry) => (fn) =>
      retry(() =>
        knex.transaction((trx: Knex.Transaction) => withDeferredInserts(trx, () => fn(repositories(trx)))),
      ),
  };
}
