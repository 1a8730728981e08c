import type { Journal, StoreHealth, StoreTx } from "@settlekit/core";
import type { Knex } from "knex";
import type { ShardPolicy } from "./repositories/balance-rows.js";

/**
 * The store's dialects. The repositories (`repositories/`) are written once against
 * {@link SqlAdapter}; each dialect (`dialects/postgres/`, `dialects/sqlite/`) implements
 * {@link StoreDialect} — in the spirit of Kysely's split between a Driver (connections,
 * transactions) and an Adapter (what the SQL may say) — and `knex-store.ts` wires one to the
 * repositories. Nothing outside `dialects/` asks which database it is talking to.
 */
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

export type Row = Record<string, unknown>;

/**
 * Runs statements straight on the connection. Every statement of the repositories goes through
 * here — hand-written texts (with `?` placeholders) and the ones knex's query builder composes —
 * so each dialect has one place that sends SQL: on Postgres a text becomes a named prepared
 * statement (one registry: `dialects/postgres/statements.ts`) and travels with the deferred
 * inserts; on SQLite it is prepared once per connection (`dialects/sqlite/exec.ts`).
 */
export interface Exec {
  /** The rows of a SELECT, or of a write with RETURNING. */
  all(text: string, params: readonly unknown[]): Promise<Row[]>;
  /** A write: how many rows it changed. */
  run(text: string, params: readonly unknown[]): Promise<number>;
  /**
   * An INSERT whose outcome nobody reads (no RETURNING, no count). Inside a Postgres transaction it
   * waits and travels with the transaction's next statement, or before its commit, saving a round
   * trip; an error it raises then fails that statement and the transaction. Elsewhere it runs at
   * once.
   */
  defer(text: string, params: readonly unknown[]): Promise<void>;
  /** The rows of a statement knex's query builder composed (compiled here, sent as the others). */
  rows(query: Knex.QueryBuilder): Promise<Row[]>;
  /** The first row of a composed statement (`.first()` builds its `LIMIT 1`). */
  first(query: Knex.QueryBuilder): Promise<Row | undefined>;
  /** A composed write (UPDATE, DELETE, INSERT): how many rows it changed. */
  count(query: Knex.QueryBuilder): Promise<number>;
}

/**
 * What a repository may ask of its dialect (the Adapter): how values are written, how rows are
 * locked, how statements are sent. Reads are dialect-neutral (`values.ts`).
 */
export interface SqlAdapter {
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
  /**
   * `text` reading rows under a row lock when `forUpdate` (Postgres `FOR UPDATE`). SQLite has no
   * row locks: its write transactions hold the whole database's write lock from their first statement.
   */
  lockText(text: string, forUpdate: boolean | undefined): string;
  /**
   * A statement taking a lock on an arbitrary key (one `?`: the key) until the transaction ends,
   * whether or not a row exists for it (Postgres `pg_advisory_xact_lock`); undefined on SQLite,
   * whose write transactions already run one at a time.
   */
  readonly keyLockText: string | undefined;
  /** The same for a composed query. */
  lock<Q extends Knex.QueryBuilder>(query: Q, forUpdate: boolean | undefined): Q;
  /** Rows a worker claims: locked and skipping rows other workers hold (Postgres `FOR UPDATE SKIP LOCKED`). */
  claimable<Q extends Knex.QueryBuilder>(query: Q): Q;
  /** The same for a statement text (a SELECT, also one inside a CTE). */
  claimableText(text: string): string;
  /**
   * Whether several compare-and-set UPDATEs are better sent as one statement of data-modifying
   * CTEs (a round trip saved per update on a server) than one by one (embedded: nothing to save).
   */
  readonly combinesUpdates: boolean;
  /** The statement runner over `db` (the store's knex or one of its transactions). */
  exec(db: Knex | Knex.Transaction): Exec;
}

/** Inserts a validated journal with its balance rows; false when the reference already exists. */
export type JournalInsert = (journal: Journal) => Promise<boolean>;

/** Runs `work` again on transient conflicts, a bounded number of times (the store's policy). */
export type Retry = <T>(work: () => Promise<T>) => Promise<T>;

/** What the store hands a dialect when it opens. */
export interface DialectContext {
  readonly knex: Knex;
  readonly shards: ShardPolicy;
}

/** A transaction runner: `fn` gets the repositories; read-only ones may skip the write lock. */
export type RunTransaction = <T>(fn: (tx: StoreTx) => Promise<T>, readOnly: boolean) => Promise<T>;

/**
 * A database settlekit's store runs on (the Driver): the adapter its repositories use, and how
 * transactions, conflicts and transaction-free journal posts work there.
 */
export interface StoreDialect {
  readonly adapter: SqlAdapter;
  /** A conflict worth running the transaction again for (deadlock, serialization failure, busy file). */
  isTransient(error: unknown): boolean;
  /** Before anything else touches the database (SQLite settles its connection's pragmas). */
  ready(): Promise<void>;
  /**
   * Whether the database answers and takes writes, and replication as the primary sees it; may
   * throw (the store turns a failure or a timeout into `reachable: false`).
   */
  health(): Promise<Omit<StoreHealth, "latencyMs">>;
  /** The ledger's journal insert inside the transaction `trx`. */
  journalInsert(trx: Knex.Transaction): JournalInsert;
  /** Journal posts outside transactions, group-committed; `retry` is the store's conflict policy. */
  autocommitJournalInsert(retry: Retry): JournalInsert;
  /**
   * The store's transactions: `repositories(trx)` builds what a callback gets over a physical
   * transaction; `retry` runs a physical transaction again on transient conflicts.
   */
  transactions(repositories: (trx: Knex.Transaction) => StoreTx, retry: Retry): RunTransaction;
}
