import { callPsp, PspError, rejectedRequest, transportFailure } from "@settlekit/core";
import type Stripe from "stripe";

const RETRYABLE_CODES = new Set(["idempotency_key_in_use", "lock_timeout", "balance_insufficient"]);

/** A Stripe client error, recognised by shape: the host's `stripe` copy may not be ours (ESM vs CJS). */
const isStripeError = (error: unknown): error is Stripe.errors.StripeError =>
  error instanceof Error && typeof (error as { type?: unknown }).type === "string" && "rawType" in error;

/**
 * Stripe's failures classified as the `PaymentProvider` port asks
 * (https://docs.stripe.com/error-handling, https://docs.stripe.com/error-codes):
 * - the request may have been processed → indeterminate `PSP_TIMEOUT`, settled by retrying under
 *   the same idempotency key (Stripe replays what it did), by webhook or by the sweeper, never by
 *   assuming nothing happened: a timeout, a connection that broke after the request was sent, and
 *   any 5xx — stripe-node documents that Stripe's idempotency layer saves and replays a 500 once
 *   the endpoint began executing, so a 500 does not mean "nothing happened";
 * - nothing reached Stripe's API → retryable `PSP_UNAVAILABLE`: a connection that could not be
 *   opened (refused, DNS), 429, 409 `idempotency_key_in_use` (a concurrent request with the same
 *   key is still running), `lock_timeout` and `balance_insufficient` (a transfer before the funds
 *   are available);
 * - 402 card errors → `PAYMENT_DECLINED`, `pspCode` the issuer's decline code when there is one;
 * - 404 → fatal `NOT_FOUND`;
 * - everything else (invalid request, `idempotency_error`, authentication, permission) → fatal
 *   `PSP_REQUEST_REJECTED`: the same request will fail the same way.
 */
export function toPspError(error: unknown, context: string): PspError {
  if (error instanceof PspError) return error;
  if (!isStripeError(error)) {
    // Not from Stripe's client: a bug or an unexpected runtime failure; we cannot know whether
    // the request reached Stripe.
    return new PspError("PSP_TIMEOUT", "indeterminate", `${context}: ${String(error)}`, { cause: error });
  }
  const code = error.code ?? error.rawType ?? error.type;
  const options = { pspCode: code, cause: error, ...(error.param ? { param: error.param } : {}) };
  const message = `${context}: ${error.message}`;
  if (error.type === "StripeConnectionError") {
    const socketCode = (error.detail as { code?: string } | undefined)?.code;
    if (socketCode === "ETIMEDOUT") {
      return new PspError("PSP_TIMEOUT", "indeterminate", message, { ...options, pspCode: "timeout" });
    }
    return transportFailure(message, socketCode, options);
  }
  const status = error.statusCode ?? 0;
  if (status >= 500) {
    return new PspError("PSP_TIMEOUT", "indeterminate", message, {
      ...options,
      pspCode: code ?? "api_error",
    });
  }
  // `balance_insufficient`: a payout before the money it needs is available; later it will be.
  if (status === 429 || RETRYABLE_CODES.has(code ?? "")) {
    return new PspError("PSP_UNAVAILABLE", "retryable", message, options);
  }
  if (error.type === "StripeCardError") {
    return new PspError("PAYMENT_DECLINED", "declined", message, {
      ...options,
      pspCode: error.decline_code || error.code || "card_declined",
    });
  }
  if (status === 404 || code === "resource_missing") {
    return new PspError("NOT_FOUND", "fatal", message, options);
  }
  return new PspError("PSP_REQUEST_REJECTED", "fatal", message, options);
}

/** Runs one Stripe call and turns its failure into a classified {@link PspError}. */
export const call = <T>(context: string, run: () => Promise<T>): Promise<T> =>
  callPsp(context, run, toPspError);

/** A request the adapter refuses before calling Stripe (fatal, nothing sent). */
export const rejected = rejectedRequest;
