import type { StoreHealth } from "@settlekit/core";
import { ErrorCodes, SettlekitError } from "@settlekit/core";
import type { Knex } from "knex";
import type { DialectContext, SqlAdapter, StoreDialect } from "../../dialect.js";
import { isClientTimeout, storeError } from "../../store-errors.js";
import { commonAdapter, withConnection } from "../common.js";
import { postgresExec, withDeferredInserts } from "./exec.js";
import { insertJournalPostgres, postgresJournalWriter } from "./journal.js";
import { markReadOnly } from "./primary.js";

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
    // 64-bit hash of the key: collisions only make two unrelated keys wait for each other.
    keyLockText: "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
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
    health: () => postgresHealth(knex),
    journalInsert: (trx) => (journal) => insertJournalPostgres(trx, journal, shards),
    autocommitJournalInsert(retry) {
      // Group commit outside transactions: one statement per group.
      const write = postgresJournalWriter(knex, shards, isTransient);
      return (journal) => retry(() => write(journal));
    },
    transactions: (repositories, retry) => (fn, readOnly) =>
      retry(async () => {
        // Set once the callback resolved: knex sends COMMIT next, so a broken connection from then
        // on may or may not have committed (see `commitFailure`).
        let committing = false;
        // pg's client-side `query_timeout` fired inside the transaction (see `discardTimedOut`).
        let timedOut: unknown;
        try {
          return await knex.transaction(async (trx: Knex.Transaction) => {
            try {
              const value = await withDeferredInserts(trx, () => fn(repositories(trx)));
              committing = true;
              return value;
            } catch (error) {
              // A write on a read-only server: the pool must not hand this connection out again.
              if ((error as { code?: unknown } | null)?.code === "25006") {
                await withConnection(trx, (connection: object) => markReadOnly(connection)).catch(() => {});
              }
              if (isClientTimeout(error)) {
                timedOut = error;
                await withConnection(trx, discardTimedOut).catch(() => {});
              }
              throw error;
            }
          });
        } catch (error) {
          // The ROLLBACK on a discarded connection fails too: the timeout is what happened.
          if (timedOut !== undefined) throw timedOut;
          throw committing && !readOnly ? commitFailure(error) : error;
        }
      }),
  };
}

/**
 * Closes a connection whose statement pg stopped waiting for. pg only stops *waiting*: the
 * statement still runs on the server, and the ROLLBACK knex sends next is queued behind it, times
 * out in turn and is dropped unsent — so the connection would go back to the pool inside the open
 * transaction, and the next transaction on it would commit the failed one's writes. Closed, the
 * server rolls the transaction back and the pool never hands the connection out again.
 */
function discardTimedOut(connection: {
  __knex__disposed?: unknown;
  connection?: { stream?: { destroy(): void } };
}): void {
  connection.__knex__disposed = "closed after a query timeout";
  connection.connection?.stream?.destroy();
}

/**
 * A failure after COMMIT was sent. A server that answered (a serialization failure, a deferred
 * constraint) rolled back: the error goes on as it is, and a conflict is retried as usual. A
 * connection that broke (reset, terminated, admin shutdown: a failover) leaves the outcome
 * unknown — the commit may be on the new primary — so the transaction is never run again:
 * `STORE_COMMIT_UNKNOWN` tells the caller to retry the whole request under its idempotency key.
 */
function commitFailure(error: unknown): unknown {
  const typed = storeError(error);
  if (!(typed instanceof SettlekitError) || typed.code !== ErrorCodes.STORE_UNAVAILABLE) return error;
  return new SettlekitError(
    ErrorCodes.STORE_COMMIT_UNKNOWN,
    "The connection to the database broke during COMMIT: the change may or may not be saved. Retry with the same idempotency key.",
    { cause: error, details: typed.details },
  );
}

/** Whether the server is the writable primary, and what `pg_stat_replication` says of its standbys. */
async function postgresHealth(knex: Knex): Promise<Omit<StoreHealth, "latencyMs">> {
  // Not repository statements: plain queries, no transaction, on any pooled connection.
  const role = await knex.raw<{ rows: { standby: boolean; read_only: string }[] }>(
    "SELECT pg_is_in_recovery() AS standby, current_setting('transaction_read_only') AS read_only",
  );
  const { standby, read_only } = role.rows[0]!;
  if (standby) {
    return {
      reachable: true,
      writable: false,
      replication: null,
      reason: "the server is a standby (in recovery)",
    };
  }
  const replication = await knex.raw<{ rows: ReplicationRow[] }>(
    `SELECT count(*)::int AS standbys,
            count(*) FILTER (WHERE sync_state IN ('sync', 'quorum'))::int AS synchronous,
            max(EXTRACT(EPOCH FROM replay_lag) * 1000)::float8 AS lag_ms,
            max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn))::float8 AS lag_bytes
       FROM pg_stat_replication`,
  );
  const row = replication.rows[0]!;
  const writable = read_only === "off";
  return {
    reachable: true,
    writable,
    replication: {
      standbys: row.standbys,
      synchronous: row.synchronous,
      lagMs: row.lag_ms === null ? null : Math.max(0, Math.round(row.lag_ms * 10) / 10),
      lagBytes: row.lag_bytes === null ? null : Math.max(0, row.lag_bytes),
    },
    ...(writable ? {} : { reason: "the server is read-only (transaction_read_only is on)" }),
  };
}

interface ReplicationRow {
  readonly standbys: number;
  readonly synchronous: number;
  readonly lag_ms: number | null;
  readonly lag_bytes: number | null;
}
