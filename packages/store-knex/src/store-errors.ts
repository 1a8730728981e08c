import { ErrorCodes, SettlekitError } from "@settlekit/core";

interface DriverError {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly severity?: unknown;
  readonly syscall?: unknown;
}

/** Node's socket errors: the server is not there (or went away). */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
]);

/**
 * SQLSTATEs of a server that is down or cannot take work: connection exceptions (class 08),
 * insufficient resources (class 53: disk full, out of memory, too many connections), admin or
 * crash shutdown and "starting up" (57P01–57P03), a read-only server (a standby).
 */
const unavailableSqlState = (code: string) =>
  /^(08|53)/.test(code) || ["57P01", "57P02", "57P03", "25006"].includes(code);

/** SQLite result codes of a file that cannot be opened, written or synced. */
const UNAVAILABLE_SQLITE = /^SQLITE_(CANTOPEN|FULL|IOERR|READONLY)/;

/**
 * A statement the database (or pg) gave up on for taking too long: `statement_timeout` or a
 * cancel (57014), `lock_timeout` (55P03), pg's client-side `query_timeout` ("Query read
 * timeout"). The database is up but too busy to answer in time: retry later (503), but never as
 * a failover retry — running the same work again at once only adds to the load.
 */
const TIMEOUT_SQLSTATES = new Set(["57014", "55P03"]);
const TIMEOUT_MESSAGE = /Query read timeout$/;

/**
 * pg's client-side `query_timeout` error (knex prefixes the statement). Unlike the server's
 * timeouts it stops only the *waiting*: the statement runs on at the server, and may still commit.
 */
export const isClientTimeout = (error: unknown): boolean =>
  error instanceof Error && TIMEOUT_MESSAGE.test(error.message);

function timedOut(error: DriverError): boolean {
  const code = typeof error.code === "string" ? error.code : "";
  return (
    (TIMEOUT_SQLSTATES.has(code) && error.severity !== undefined) ||
    TIMEOUT_MESSAGE.test(String(error.message ?? ""))
  );
}

/** pg's and knex's own errors for a connection that is gone or cannot be had. */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|connection error and is not queryable|Timeout acquiring a connection|Unable to acquire a connection|Connection ended|terminating connection/i;

/** The settlekit table a "no such table" / undefined_table (42P01) error names, if it is one of ours. */
function missingTable(error: DriverError): string | undefined {
  const message = String(error.message ?? "");
  if (error.code === "42P01")
    return /relation "(?:[\w$]+\.)?(settlekit_\w+)" does not exist/.exec(message)?.[1];
  if (String(error.code ?? "").startsWith("SQLITE_"))
    return /no such table: (?:\w+\.)?(settlekit_\w+)/.exec(message)?.[1];
  return undefined;
}

/** Whether `error` came from the database driver, its pool or the socket (not from a callback's own code). */
function fromDriver(error: DriverError): boolean {
  const code = typeof error.code === "string" ? error.code : "";
  return (
    error.name === "SqliteError" ||
    error.name === "DatabaseError" ||
    error.name === "KnexTimeoutError" ||
    code.startsWith("SQLITE_") ||
    (/^[0-9A-Z]{5}$/.test(code) && error.severity !== undefined) ||
    typeof error.syscall === "string" ||
    TIMEOUT_MESSAGE.test(String(error.message ?? "")) ||
    UNAVAILABLE_MESSAGE.test(String(error.message ?? ""))
  );
}

/**
 * What the store throws for a failure of the database: settlekit's own errors and the errors of
 * the host's callbacks pass through unchanged; a driver error becomes `STORE_NOT_MIGRATED` (one
 * of settlekit's tables is missing), `STORE_UNAVAILABLE` (the database is down, cannot take
 * writes, or gave up on a statement that took too long) or `STORE_ERROR`, each with the driver's error as `cause` (its message may quote SQL,
 * so it is kept out of the message).
 */
export function storeError(error: unknown): unknown {
  if (error instanceof SettlekitError || error === null || typeof error !== "object") return error;
  const driver = error as DriverError;
  if (!fromDriver(driver)) return error;
  const table = missingTable(driver);
  if (table !== undefined) {
    return new SettlekitError(
      ErrorCodes.STORE_NOT_MIGRATED,
      `settlekit's tables are missing from this database (${table}): run store.migrate() before using the store.`,
      { cause: error, details: { table } },
    );
  }
  const code = typeof driver.code === "string" ? driver.code : "";
  if (timedOut(driver)) {
    return new SettlekitError(
      ErrorCodes.STORE_UNAVAILABLE,
      "The database did not answer in time (a statement, lock or query timeout); retry later.",
      { cause: error, details: { ...(code ? { driverCode: code } : {}), timeout: true } },
    );
  }
  if (
    SOCKET_CODES.has(code) ||
    UNAVAILABLE_SQLITE.test(code) ||
    (/^[0-9A-Z]{5}$/.test(code) && unavailableSqlState(code)) ||
    driver.name === "KnexTimeoutError" ||
    UNAVAILABLE_MESSAGE.test(String(driver.message ?? ""))
  ) {
    return new SettlekitError(ErrorCodes.STORE_UNAVAILABLE, "The database is unavailable; retry later.", {
      cause: error,
      details: code ? { driverCode: code } : undefined,
    });
  }
  return new SettlekitError(ErrorCodes.STORE_ERROR, "The database failed unexpectedly; see the cause.", {
    cause: error,
    details: code ? { driverCode: code } : undefined,
  });
}

/**
 * Whether `error` is a driver failure of a database that is down or cannot take writes now (worth
 * waiting out, e.g. a failover). A timeout is not: the database is up and busy.
 */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof SettlekitError || error === null || typeof error !== "object") return false;
  if (timedOut(error as DriverError)) return false;
  const typed = storeError(error);
  return typed instanceof SettlekitError && typed.code === ErrorCodes.STORE_UNAVAILABLE;
}

/** `work`, with its failures passed through {@link storeError}. */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw storeError(error);
  }
}

/** `target` with every method's failures passed through {@link storeError}. */
export function guardMethods<T extends object>(target: T): T {
  const wrapped = {} as Record<string, unknown>;
  for (const [key, value] of Object.entries(target)) {
    wrapped[key] =
      typeof value === "function"
        ? (...args: unknown[]) => guarded(() => (value as (...a: unknown[]) => Promise<unknown>)(...args))
        : value;
  }
  return wrapped as T;
}

/**
 * Whether `error` is the driver's unique-key violation on `table` (Postgres 23505 names the table;
 * SQLite's message names the table's columns), for a repository that turns it into a domain error.
 */
export function isUniqueViolation(error: unknown, table: string): boolean {
  if (error === null || typeof error !== "object") return false;
  const driver = error as DriverError & { readonly table?: unknown };
  if (driver.code === "23505") return driver.table === table;
  return (
    (driver.code === "SQLITE_CONSTRAINT_UNIQUE" || driver.code === "SQLITE_CONSTRAINT_PRIMARYKEY") &&
    String(driver.message ?? "").includes(`${table}.`)
  );
}
