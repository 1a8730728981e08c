import type { Logger } from "pino";
import { pino } from "pino";
import { maskPans } from "./card-data.js";

/** Never logged, wherever they appear in a log object. */
const REDACT = [
  "authorization",
  "cookie",
  "*.authorization",
  "*.cookie",
  "*.Authorization",
  'headers["idempotency-key"]',
  "*.secret",
  "*.webhookSecret",
  "*.password",
  "*.token",
];

/** Errors as logged: masked message and stack, code and param; never the raw `cause` chain's data. */
function serializeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: maskPans(String(error)) };
  const { code, param } = error as { code?: unknown; param?: unknown };
  return {
    type: error.name,
    message: maskPans(error.message),
    ...(code !== undefined ? { code } : {}),
    ...(param !== undefined ? { param } : {}),
    stack: error.stack ? maskPans(error.stack) : undefined,
    ...(error.cause !== undefined ? { cause: serializeError(error.cause) } : {}),
  };
}

/**
 * The router's logger: a child of the host's (or a new pino logger) with secrets redacted and
 * card-like numbers masked in errors. Request logs only carry fields chosen in `router.ts`.
 */
export function routerLogger(logger: Logger | false | undefined): Logger {
  if (logger === false) return pino({ level: "silent" });
  const options = { redact: { paths: REDACT, censor: "[redacted]" }, serializers: { err: serializeError } };
  return logger
    ? logger.child({ component: "settlekit" }, options)
    : pino({ ...options, base: { component: "settlekit" } });
}
