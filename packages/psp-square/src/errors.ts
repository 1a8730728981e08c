import { callPsp, PspError, rejectedRequest, transportFailure } from "@settlekit/core";

/** Codes after which the same request, sent again later, can succeed (nothing was done). */
const RETRYABLE_CODES = new Set(["RATE_LIMITED", "SERVICE_UNAVAILABLE", "REFUND_ALREADY_PENDING"]);

/** One entry of Square's error envelope `{ errors: [{ category, code, detail, field }] }`. */
export interface SquareErrorEntry {
  readonly category?: string;
  readonly code?: string;
  readonly detail?: string;
  readonly field?: string;
}

interface SquareErrorLike extends Error {
  readonly statusCode?: number;
  readonly errors?: readonly SquareErrorEntry[];
}

/** Recognised by name: the host's `square` copy may not be the one this package resolved. */
const isSquareError = (error: unknown): error is SquareErrorLike =>
  error instanceof Error && (error.name === "SquareError" || error.name === "SquareTimeoutError");

/** The first socket error code in a `cause` chain (fetch wraps it: `TypeError: fetch failed` → `cause.code`). */
function socketCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

/** The client's own timeout: its abort signal fired (`TimeoutError`, or `AbortError` on older runtimes). */
function timedOut(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const name = (e as { name?: unknown }).name;
    if (name === "TimeoutError" || name === "AbortError") return true;
  }
  return false;
}

/** Square's entry for an error (the first of its envelope). */
export const entryOf = (error: unknown): SquareErrorEntry | undefined =>
  isSquareError(error) ? error.errors?.[0] : undefined;

/**
 * Square's failures classified as the `PaymentProvider` port asks
 * (https://developer.squareup.com/docs/build-basics/handling-errors):
 * - the answer was lost after the request left → indeterminate `PSP_TIMEOUT`: `SquareTimeoutError`,
 *   a connection that broke once open, and a 5xx other than 503 (`INTERNAL_SERVER_ERROR`,
 *   `GATEWAY_TIMEOUT`: Square may have acted); settled by a retry under the same idempotency
 *   key, by webhook or by the sweeper;
 * - nothing happened → retryable `PSP_UNAVAILABLE`: a connection that could not be opened, 429 /
 *   `RATE_LIMITED`, 503 / `SERVICE_UNAVAILABLE`, `REFUND_ALREADY_PENDING`;
 * - category `PAYMENT_METHOD_ERROR` → `PAYMENT_DECLINED`, `pspCode` Square's code (`GENERIC_DECLINE`…);
 * - 404 / `NOT_FOUND` → fatal `NOT_FOUND`;
 * - everything else (`INVALID_REQUEST_ERROR`, `AUTHENTICATION_ERROR`, `IDEMPOTENCY_KEY_REUSED`,
 *   `REFUND_ERROR`…) → fatal `PSP_REQUEST_REJECTED`, `param` Square's `field`.
 */
export function toPspError(error: unknown, context: string): PspError {
  if (error instanceof PspError) return error;
  if (!isSquareError(error)) {
    // Not from Square's client: a bug or an unexpected runtime failure; the request may have left.
    return new PspError("PSP_TIMEOUT", "indeterminate", `${context}: ${String(error)}`, { cause: error });
  }
  if (error.name === "SquareTimeoutError") {
    return new PspError("PSP_TIMEOUT", "indeterminate", `${context}: ${error.message}`, {
      pspCode: "timeout",
      cause: error,
    });
  }
  const status = error.statusCode;
  if (status === undefined) {
    // square v46 aborts a request past `timeoutInSeconds` with the reason "timeout" (a string),
    // which reaches us as the cause of a status-less SquareError.
    if (error.cause === "timeout" || timedOut(error.cause)) {
      return new PspError("PSP_TIMEOUT", "indeterminate", `${context}: the request timed out`, {
        pspCode: "timeout",
        cause: error,
      });
    }
    const code = socketCode(error.cause);
    const message = `${context}: ${error.message.split("\n")[0]}`;
    return transportFailure(message, code, { cause: error });
  }
  const entry = error.errors?.[0] ?? {};
  const code = entry.code ?? `HTTP_${status}`;
  const options = { pspCode: code, cause: error, ...(entry.field ? { param: entry.field } : {}) };
  const message = `${context}: Square ${status} ${code}${entry.detail ? `: ${entry.detail}` : ""}`;
  if (status === 429 || status === 503 || RETRYABLE_CODES.has(code)) {
    return new PspError("PSP_UNAVAILABLE", "retryable", message, options);
  }
  if (status >= 500) return new PspError("PSP_TIMEOUT", "indeterminate", message, options);
  if (entry.category === "PAYMENT_METHOD_ERROR")
    return new PspError("PAYMENT_DECLINED", "declined", message, options);
  if (status === 404 || code === "NOT_FOUND") return new PspError("NOT_FOUND", "fatal", message, options);
  return new PspError("PSP_REQUEST_REJECTED", "fatal", message, options);
}

/** Runs one Square call and turns its failure into a classified {@link PspError}. */
export const call = <T>(context: string, run: () => Promise<T>): Promise<T> =>
  callPsp(context, run, toPspError);

/** A request the adapter refuses before calling Square (fatal, nothing sent). */
export const rejected = rejectedRequest;
