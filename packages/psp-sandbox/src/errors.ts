import { assertCurrency, PspError } from "@settlekit/core";

/**
 * The sandbox's failures, classified as the `PaymentProvider` port asks. Each `pspCode` is what a
 * real PSP would send in its error body (Stripe's words where Stripe has one), so hosts can log
 * and branch on them the same way.
 */

/** A request the sandbox refuses and will keep refusing (HTTP 400 at a real PSP): fatal. */
export function rejected(message: string, pspCode: string, param?: string, cause?: unknown): PspError {
  return new PspError("PSP_REQUEST_REJECTED", "fatal", message, {
    pspCode,
    ...(param === undefined ? {} : { param }),
    ...(cause === undefined ? {} : { cause }),
  });
}

/** `currency` when settlekit knows it; the PSP's refusal (`parameter_invalid`, param `currency`) otherwise. */
export function requireCurrency(currency: string): void {
  try {
    assertCurrency(currency);
  } catch (cause) {
    throw rejected(
      `Unsupported currency ${JSON.stringify(currency)}.`,
      "parameter_invalid",
      "currency",
      cause,
    );
  }
}

/** An idempotency key reused with different parameters (Stripe's `idempotency_error`): fatal. */
export function idempotencyMismatch(key: string): PspError {
  return rejected(
    `Idempotency key ${JSON.stringify(key)} was already used with different parameters.`,
    "idempotency_error",
    "idempotencyKey",
  );
}

/** No payment with this reference at the sandbox (HTTP 404 `resource_missing`): fatal. */
export function paymentNotFound(pspReference: string): PspError {
  return new PspError("NOT_FOUND", "fatal", `No sandbox payment ${JSON.stringify(pspReference)}.`, {
    pspCode: "resource_missing",
    param: "pspReference",
  });
}

/** Injected 503: nothing happened at the sandbox, so a retry is safe. */
export function unavailable(): PspError {
  return new PspError(
    "PSP_UNAVAILABLE",
    "retryable",
    "Sandbox answered 503 Service Unavailable (injected).",
    {
      pspCode: "service_unavailable",
    },
  );
}

/** Injected timeout: the request took effect but its answer was lost. */
export function timedOut(): PspError {
  return new PspError(
    "PSP_TIMEOUT",
    "indeterminate",
    "Sandbox did not answer in time (injected); the request may have taken effect.",
    { pspCode: "timeout" },
  );
}
