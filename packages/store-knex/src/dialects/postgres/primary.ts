import type { Knex } from "knex";

/** The part of a pg `Client` the checks use. */
interface PgClient {
  query(text: string): Promise<{ rows: { standby: boolean; read_only: string }[] }>;
  end(): Promise<void>;
}

/**
 * Connections that met a read-only server after they were opened (a primary fenced with
 * `default_transaction_read_only`, a failover tool's demotion): the pool's `validate` hook of
 * {@link requirePrimary} refuses them, so the pool closes them instead of handing them out again.
 */
const readOnlyConnections = new WeakSet<object>();

/** Marks `connection` as one that reached a read-only server (see {@link requirePrimary}). */
export function markReadOnly(connection: object): void {
  readOnlyConnections.add(connection);
}

/** The error of a connection that landed on a read-only server, as pg would raise it (SQLSTATE 25006). */
function readOnlyServer(standby: boolean): Error {
  const what = standby ? "a standby (in recovery)" : "read-only (transaction_read_only is on)";
  return Object.assign(
    new Error(
      `The server this connection reached is ${what}: closed, as target_session_attrs=read-write does.`,
    ),
    { code: "25006", severity: "ERROR" },
  );
}

/**
 * `config` with the semantics of libpq's `target_session_attrs=read-write` (which pg, the Node
 * driver, does not implement): every new connection asks the server whether it is the primary
 * and writable (`pg_is_in_recovery()`, `transaction_read_only`); one that landed on a standby or
 * a read-only server is closed at once and the pool's acquire fails as a read-only error
 * (`25006`), which the store retries within `failoverRetryMs` — by then the proxy or DNS name
 * points at the new primary. A pooled connection whose server turned read-only later is closed
 * the next time the pool would hand it out. The host's own `afterCreate` and `validate` still run.
 *
 * ```ts
 * const db = knex(requirePrimary({ client: "pg", connection: process.env.DATABASE_URL }));
 * const store = knexStore(db, { failoverRetryMs: 30_000 });
 * ```
 */
export function requirePrimary(config: Knex.Config): Knex.Config {
  const pool = config.pool ?? {};
  const hostAfterCreate = pool.afterCreate as
    | ((connection: unknown, done: (error: Error | null, connection?: unknown) => void) => void)
    | undefined;
  const hostValidate = (pool as { validate?: (connection: unknown) => boolean | Promise<boolean> }).validate;
  return {
    ...config,
    pool: {
      ...pool,
      afterCreate(connection: PgClient, done: (error: Error | null, connection?: unknown) => void) {
        connection
          .query(
            "SELECT pg_is_in_recovery() AS standby, current_setting('transaction_read_only') AS read_only",
          )
          .then(async ({ rows }) => {
            const row = rows[0];
            if (row && !row.standby && row.read_only === "off") return;
            // knex does not close a connection whose afterCreate failed: close it here.
            await connection.end().catch(() => undefined);
            throw readOnlyServer(row?.standby ?? true);
          })
          .then(
            () => (hostAfterCreate ? hostAfterCreate(connection, done) : done(null, connection)),
            (error: Error) => done(error, connection),
          );
      },
      validate: async (connection: object) =>
        !readOnlyConnections.has(connection) && (hostValidate ? await hostValidate(connection) : true),
    } as Knex.PoolConfig,
  };
}
