import { assertCurrency } from "../money/currency.js";
import { PspError } from "../runtime/psp-error.js";

/**
 * The checks every mutating provider call makes before it reaches its PSP: each named field a
 * non-empty string (`idempotencyKey` first), `amount` — unless `amount: false` — a positive bigint
 * of minor units, and, when asked, an ISO 4217 `currency`. Refused with a fatal
 * `PSP_REQUEST_REJECTED` (`pspCode` `parameter_invalid`) naming the field, before anything
 * happens. Shared by the sandbox and Stripe, so every adapter refuses the same input the same way.
 */
export function requireRequestFields(
  input: object,
  ids: readonly string[],
  options: { amount?: boolean; currency?: boolean } = {},
): void {
  const fields = input as Record<string, unknown>;
  const rejected = (message: string, param: string, cause?: unknown) =>
    new PspError("PSP_REQUEST_REJECTED", "fatal", message, { pspCode: "parameter_invalid", param, cause });
  for (const name of ["idempotencyKey", ...ids]) {
    if (typeof fields[name] !== "string" || fields[name] === "") throw rejected(`${name} is required.`, name);
  }
  if (options.amount !== false && (typeof fields.amount !== "bigint" || fields.amount <= 0n)) {
    throw rejected("amount must be a positive bigint of minor units.", "amount");
  }
  if (!options.currency) return;
  try {
    assertCurrency(fields.currency as string);
  } catch (cause) {
    throw rejected(`Unsupported currency ${JSON.stringify(fields.currency)}.`, "currency", cause);
  }
}
