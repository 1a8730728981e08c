import type { ErrorCode } from "@settlekit/core";
import { isSettlekitError } from "@settlekit/core";

/** Error codes only the HTTP layer raises (core's come from `ErrorCodes`). */
export const HttpErrorCodes = {
  /** `authenticate` found no buyer. */
  UNAUTHENTICATED: "UNAUTHENTICATED",
  /** `authorizeOperator` refused (or is not configured). */
  FORBIDDEN: "FORBIDDEN",
  /** Plain HTTP where `requireHttps` is on. */
  HTTPS_REQUIRED: "HTTPS_REQUIRED",
  /** A POST without the `Idempotency-Key` header. */
  IDEMPOTENCY_KEY_MISSING: "IDEMPOTENCY_KEY_MISSING",
  /** The body is not JSON (or not UTF-8, or nested too deep). */
  INVALID_JSON: "INVALID_JSON",
  /** The body looks like it carries card data (a PAN, a CVC field…): refused, never stored or logged. */
  CARD_DATA_REJECTED: "CARD_DATA_REJECTED",
  /** The body is larger than `bodyLimit`. */
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  /** A body that is not `application/json`. */
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  /** Too many requests for this buyer or IP; see `Retry-After`. */
  RATE_LIMITED: "RATE_LIMITED",
  /** The shared rate-limit store (Redis) is down and `rateLimit.failOpen` is off: retry shortly. */
  RATE_LIMIT_UNAVAILABLE: "RATE_LIMIT_UNAVAILABLE",
  /** The process is shutting down (`serve()`'s `close()` began): readiness answers it, so the balancer sends elsewhere. */
  SHUTTING_DOWN: "SHUTTING_DOWN",
  /** No route for this method and path under the router's prefix. */
  ROUTE_NOT_FOUND: "ROUTE_NOT_FOUND",
  /** A known path with a method it does not have; `Allow` lists those it has. */
  METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
  /** A webhook's raw bytes were consumed by a body parser the router could not get ahead of. */
  RAW_BODY_UNAVAILABLE: "RAW_BODY_UNAVAILABLE",
  /** Anything unexpected (a bug): details are logged, never sent. */
  INTERNAL_ERROR: "INTERNAL_ERROR",
} as const;

export type HttpErrorCode = (typeof HttpErrorCodes)[keyof typeof HttpErrorCodes];
export type ApiErrorCode = ErrorCode | HttpErrorCode;

/** The `type` of an error body: the broad class a client branches on (Stripe's convention). */
export type ApiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "idempotency_error"
  | "rate_limit_error"
  | "payment_error"
  | "psp_error"
  | "api_error";

const invalid = (status: number) => ({ status, type: "invalid_request_error" as const });

/**
 * THE table from error code to HTTP status and error type. Typed over every code, so a code added
 * to core does not compile until it has a status here.
 */
export const ERROR_STATUS: { readonly [C in ApiErrorCode]: { status: number; type: ApiErrorType } } = {
  VALIDATION_FAILED: invalid(400),
  INVALID_AMOUNT: invalid(400),
  INVALID_MONEY_FORMAT: invalid(400),
  TOO_MANY_DECIMALS: invalid(400),
  UNKNOWN_CURRENCY: invalid(400),
  CURRENCY_MISMATCH: invalid(400),
  INVALID_ALLOCATION: invalid(400),
  INVALID_ACCOUNT: invalid(400),
  INVALID_JOURNAL: invalid(400),
  UNBALANCED_JOURNAL: invalid(400),
  INVALID_JSON: invalid(400),
  CARD_DATA_REJECTED: invalid(400),
  WEBHOOK_SIGNATURE_INVALID: invalid(400),
  IDEMPOTENCY_KEY_MISSING: { status: 400, type: "idempotency_error" },
  UNAUTHENTICATED: { status: 401, type: "authentication_error" },
  PAYMENT_DECLINED: { status: 402, type: "payment_error" },
  FORBIDDEN: { status: 403, type: "permission_error" },
  HTTPS_REQUIRED: { status: 403, type: "permission_error" },
  NOT_FOUND: invalid(404),
  ROUTE_NOT_FOUND: invalid(404),
  METHOD_NOT_ALLOWED: invalid(405),
  // A refund of a payment that is not captured, a retry of one that did not fail…
  INVALID_STATE_TRANSITION: invalid(409),
  JOURNAL_EXISTS_WITH_DIFFERENT_CONTENT: invalid(409),
  IDEMPOTENCY_KEY_IN_USE: { status: 409, type: "idempotency_error" },
  // The request outlived its lock and another execution finished it: retrying replays that answer.
  LEASE_LOST: { status: 409, type: "idempotency_error" },
  PAYLOAD_TOO_LARGE: invalid(413),
  UNSUPPORTED_MEDIA_TYPE: invalid(415),
  IDEMPOTENCY_KEY_REUSED: { status: 422, type: "idempotency_error" },
  REFUND_EXCEEDS_CAPTURED: invalid(422),
  // The PSP refused as invalid (or signed an unreadable webhook): retrying the same cannot help.
  PSP_REQUEST_REJECTED: { status: 422, type: "psp_error" },
  RATE_LIMITED: { status: 429, type: "rate_limit_error" },
  INTERNAL_ERROR: { status: 500, type: "api_error" },
  STORE_ERROR: { status: 500, type: "api_error" },
  // A setup mistake of the host (no `store.migrate()`): the message says so, and no retry helps.
  STORE_NOT_MIGRATED: { status: 500, type: "api_error" },
  RAW_BODY_UNAVAILABLE: { status: 500, type: "api_error" },
  STORE_CONFLICT: { status: 503, type: "api_error" },
  // The database is down or cannot take writes: nothing was done, the same request may be retried.
  STORE_UNAVAILABLE: { status: 503, type: "api_error" },
  // The connection broke during COMMIT (a failover): the same request with the same Idempotency-Key
  // answers what happened, so it is a 503 to retry like the one above, never a 500.
  STORE_COMMIT_UNKNOWN: { status: 503, type: "api_error" },
  PSP_UNAVAILABLE: { status: 503, type: "psp_error" },
  RATE_LIMIT_UNAVAILABLE: { status: 503, type: "api_error" },
  SHUTTING_DOWN: { status: 503, type: "api_error" },
  // The rate feed has no fresh rate: nothing was reserved; retrying once it has one succeeds.
  FX_RATE_UNAVAILABLE: { status: 503, type: "api_error" },
  // A setup mistake of the host, raised at start-up, never by a request.
  PROVIDER_CAPABILITY_MISSING: { status: 500, type: "api_error" },
  PSP_TIMEOUT: { status: 504, type: "psp_error" },
  // Raised by alert sinks inside jobs, never by a route; here for completeness.
  ALERT_DELIVERY_FAILED: { status: 502, type: "api_error" },
};

/** An error of the HTTP layer; core errors travel as `SettlekitError` and map through the same table. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly param?: string,
    /** Extra response headers (`Retry-After`, `Allow`…). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** The JSON every error answers with. */
export interface ErrorBody {
  readonly error: {
    readonly type: ApiErrorType;
    readonly code: string;
    readonly message: string;
    readonly param?: string;
    readonly request_id: string;
  };
}

/** Core params are camelCase paths (`orders.1.sellerId`); the API speaks snake_case. */
const snake = (param: string): string => param.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Status, headers and body for any thrown value. Unknown errors become a bare 500. */
export function toErrorResponse(
  error: unknown,
  requestId: string,
): { status: number; headers: Readonly<Record<string, string>>; body: ErrorBody; expected: boolean } {
  let code: ApiErrorCode = "INTERNAL_ERROR";
  let message = "Something went wrong on our side; it has been logged.";
  let param: string | undefined;
  let headers: Readonly<Record<string, string>> = {};
  if (error instanceof ApiError || isSettlekitError(error)) {
    code = error.code;
    message = error.message;
    param = error.param;
    if (error instanceof ApiError) headers = error.headers;
  }
  const { status, type } = ERROR_STATUS[code] ?? ERROR_STATUS.INTERNAL_ERROR;
  // A conflict clears at once; a database that is down takes longer to come back.
  if (status === 503) {
    const slow = code === "STORE_UNAVAILABLE" || code === "STORE_COMMIT_UNKNOWN";
    headers = { "Retry-After": slow ? "5" : "1", ...headers };
  }
  // A store failure's message may quote SQL: it goes to the log only.
  if (code === "STORE_ERROR") message = "Something went wrong on our side; it has been logged.";
  const body: ErrorBody = {
    error: {
      type,
      code: code.toLowerCase(),
      message,
      ...(param !== undefined ? { param: error instanceof ApiError ? param : snake(param) } : {}),
      request_id: requestId,
    },
  };
  return { status, headers, body, expected: status < 500 };
}
