/**
 * Every error settlekit throws on purpose is a {@link SettlekitError} with a stable `code`
 * from {@link ErrorCodes}. Codes are part of the public API: hosts branch on them and the
 * HTTP layer maps them to statuses through one table.
 */
export const ErrorCodes = {
  /** Input failed validation; `param` names the offending field. */
  VALIDATION_FAILED: "VALIDATION_FAILED",
  /** A money amount is not an integer, out of range, or not allowed where it was given. */
  INVALID_AMOUNT: "INVALID_AMOUNT",
  /** A decimal string is not a valid amount (`"12.3x"`, `"1e5"`, `""`). */
  INVALID_MONEY_FORMAT: "INVALID_MONEY_FORMAT",
  /** A decimal string has more fraction digits than the currency's ISO 4217 exponent. */
  TOO_MANY_DECIMALS: "TOO_MANY_DECIMALS",
  /** The currency code is not an active ISO 4217 currency with a minor unit. */
  UNKNOWN_CURRENCY: "UNKNOWN_CURRENCY",
  /** Two amounts of different currencies were combined. */
  CURRENCY_MISMATCH: "CURRENCY_MISMATCH",
  /** `allocate` was given ratios it cannot split by (empty, negative, all zero). */
  INVALID_ALLOCATION: "INVALID_ALLOCATION",
  /** A state machine was asked for a transition its table does not allow. */
  INVALID_STATE_TRANSITION: "INVALID_STATE_TRANSITION",
  /** A ledger account address is malformed. */
  INVALID_ACCOUNT: "INVALID_ACCOUNT",
  /** A journal is malformed: fewer than two postings, non-positive amounts, missing reference. */
  INVALID_JOURNAL: "INVALID_JOURNAL",
  /** A journal's debits and credits differ in at least one currency. */
  UNBALANCED_JOURNAL: "UNBALANCED_JOURNAL",
  /** A journal with this reference exists and its content differs (TigerBeetle's `exists_with_different_*`). */
  JOURNAL_EXISTS_WITH_DIFFERENT_CONTENT: "JOURNAL_EXISTS_WITH_DIFFERENT_CONTENT",
  /** The idempotency key was used before with a different request. */
  IDEMPOTENCY_KEY_REUSED: "IDEMPOTENCY_KEY_REUSED",
  /** The idempotency key belongs to a request that is still running. */
  IDEMPOTENCY_KEY_IN_USE: "IDEMPOTENCY_KEY_IN_USE",
  /** The thing asked for does not exist (or is not visible to the caller). */
  NOT_FOUND: "NOT_FOUND",
  /** A lease on claimed work (job, outbox event, idempotency key) is no longer held by the caller. */
  LEASE_LOST: "LEASE_LOST",
  /** A transient storage conflict (deadlock, serialization failure, busy database) outlived its retries. */
  STORE_CONFLICT: "STORE_CONFLICT",
  /** The storage adapter failed in a way settlekit did not anticipate; see `cause`. */
  STORE_ERROR: "STORE_ERROR",
  /**
   * settlekit's tables (or some of its migrations) are missing from the database: run
   * `store.migrate()` once before serving. `details.table` names the missing table when known.
   */
  STORE_NOT_MIGRATED: "STORE_NOT_MIGRATED",
  /**
   * The database cannot be reached or cannot take the work right now: connection refused or
   * terminated, server shutting down or starting, no connection free in the pool in time, the
   * file cannot be opened, is read-only, the disk is full or failing. Nothing was committed;
   * retry later (HTTP answers 503 with `Retry-After`). See `cause` for the driver's error.
   */
  STORE_UNAVAILABLE: "STORE_UNAVAILABLE",
  /**
   * The connection to the database broke while the transaction's COMMIT was on its way (a
   * failover, a server killed), or the database did not answer a journal posted outside a
   * transaction in time (pg's client-side `query_timeout`, `details.timeout`: the statement ran
   * on at the server): it may or may not have committed, so the store did not run it again.
   * Nothing is half-written either way (a transaction commits whole or not at all). Retry the
   * request with the same idempotency key, or post the journal again under its reference: the
   * key's record, or the journal found by reference, says what happened (HTTP answers 503 with
   * `Retry-After`). See `cause` for the driver's error.
   */
  STORE_COMMIT_UNKNOWN: "STORE_COMMIT_UNKNOWN",
  /** The PSP could not be reached or answered with a temporary failure (5xx, 429, connection). */
  PSP_UNAVAILABLE: "PSP_UNAVAILABLE",
  /** The PSP did not answer in time; the request may or may not have taken effect. */
  PSP_TIMEOUT: "PSP_TIMEOUT",
  /** The PSP refused the request as invalid (it will not succeed on retry). */
  PSP_REQUEST_REJECTED: "PSP_REQUEST_REJECTED",
  /** The buyer's payment was declined (card declined, insufficient funds…). */
  PAYMENT_DECLINED: "PAYMENT_DECLINED",
  /** A webhook's signature is missing, wrong, expired, or its body was altered. */
  WEBHOOK_SIGNATURE_INVALID: "WEBHOOK_SIGNATURE_INVALID",
  /** A refund asks for more than what is left of the captured amount. */
  REFUND_EXCEEDS_CAPTURED: "REFUND_EXCEEDS_CAPTURED",
  /** No FX rate valid now for the currency pair (unknown pair or only expired rates): nothing converted. */
  FX_RATE_UNAVAILABLE: "FX_RATE_UNAVAILABLE",
  /**
   * The configuration asks for something a PSP cannot do (e.g. Square as the payout provider:
   * it has no marketplace payouts). Raised when the system is created.
   */
  PROVIDER_CAPABILITY_MISSING: "PROVIDER_CAPABILITY_MISSING",
  /**
   * An operator alert could not be delivered (receiver down, 5xx, timeout, refused). The
   * `alert.deliver` job retries it; `details.retryable: false` (a 4xx other than 408/429: wrong URL
   * or secret) dead-letters it at once for an operator to fix and replay.
   */
  ALERT_DELIVERY_FAILED: "ALERT_DELIVERY_FAILED",
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface SettlekitErrorOptions {
  /** The input field at fault, dotted for nested fields (`orders.2.amount`). */
  param?: string | undefined;
  /** The underlying error, kept for logs; never shown to API clients. */
  cause?: unknown;
  /** Extra machine-readable details (never secrets or card data). */
  details?: Record<string, unknown> | undefined;
}

/** The one error class settlekit throws on purpose. */
export class SettlekitError extends Error {
  override readonly name = "SettlekitError";
  readonly code: ErrorCode;
  readonly param: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: SettlekitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.param = options.param;
    this.details = options.details;
  }

  toJSON(): { code: ErrorCode; message: string; param?: string } {
    return this.param === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, param: this.param };
  }
}

/** Narrows `error` to a {@link SettlekitError}, optionally with the given code. */
export function isSettlekitError(error: unknown, code?: ErrorCode): error is SettlekitError {
  return error instanceof SettlekitError && (code === undefined || error.code === code);
}
