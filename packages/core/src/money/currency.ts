import { ErrorCodes, SettlekitError } from "../errors.js";
import { ISO4217 } from "./iso4217.generated.js";

/**
 * An ISO 4217 alphabetic code, exactly three uppercase ASCII letters (`"USD"`, `"JPY"`).
 * Kept a plain `string` alias so literals work everywhere; validity is checked at runtime by
 * {@link assertCurrency}, which every money constructor goes through.
 */
export type CurrencyCode = string;

/** A currency settlekit can hold amounts in: an ISO 4217 entry that has a minor unit. */
export interface Currency {
  /** Alphabetic code (`"KWD"`). */
  readonly code: CurrencyCode;
  /** ISO numeric code, three digits with leading zeros (`"414"`, `"008"`). */
  readonly numeric: string;
  /** The exponent: how many minor units make one major unit, as a power of ten (KWD: 3). */
  readonly minorUnits: number;
  /** Name as the standard lists it (`"Kuwaiti Dinar"`). */
  readonly name: string;
}

/**
 * Explains why `code` is not usable, or returns the currency. One function so that
 * {@link isCurrencyCode} and {@link getCurrency} can never disagree.
 */
function resolve(code: unknown): Currency | string {
  if (typeof code !== "string") return `Currency code must be a string, got ${typeof code}.`;
  // Object.hasOwn, not `in` or bare indexing: "constructor" or "__proto__" must not resolve.
  const entry = Object.hasOwn(ISO4217, code) ? ISO4217[code] : undefined;
  if (entry === undefined) {
    const upper = code.toUpperCase();
    // Reject rather than normalise: a lowercase code usually means the input skipped validation
    // somewhere upstream, and silently fixing it would hide that.
    const hint =
      upper !== code && Object.hasOwn(ISO4217, upper) ? ` Codes are uppercase: did you mean "${upper}"?` : "";
    return `Unknown currency ${JSON.stringify(code)}: not an ISO 4217 alphabetic code.${hint}`;
  }
  if (entry.minorUnits === null) {
    // XAU, XDR, XXX, XTS...: the standard defines no minor unit, so no integer amount is meaningful.
    return `Currency "${code}" (${entry.name}) has no minor unit in ISO 4217 and cannot hold amounts.`;
  }
  return entry as Currency; // minorUnits is a number here; TS cannot narrow a property into the type
}

/**
 * Looks up a currency by its uppercase ISO 4217 alphabetic code.
 *
 * @param code - The code, e.g. `"USD"`. Case-sensitive: `"usd"` is rejected with a hint.
 * @param param - Field name reported on the error (default `"currency"`).
 * @throws {SettlekitError} `UNKNOWN_CURRENCY` when the code is unknown, not uppercase, not a
 *   string, or a code without a minor unit (XAU, XDR, XXX, XTS...).
 */
export function getCurrency(code: CurrencyCode, param = "currency"): Currency {
  const result = resolve(code);
  if (typeof result === "string") {
    throw new SettlekitError(ErrorCodes.UNKNOWN_CURRENCY, result, { param, details: { currency: code } });
  }
  return result;
}

/**
 * The number of fraction digits of `code` (JPY 0, USD 2, KWD 3, CLF 4).
 *
 * @throws {SettlekitError} `UNKNOWN_CURRENCY`, as {@link getCurrency}.
 */
export function currencyExponent(code: CurrencyCode, param = "currency"): number {
  return getCurrency(code, param).minorUnits;
}

/**
 * Whether `code` is a currency settlekit accepts (known, uppercase, has a minor unit).
 * Never throws; accepts any value so it can guard untrusted input.
 */
export function isCurrencyCode(code: unknown): code is CurrencyCode {
  return typeof resolve(code) !== "string";
}

/**
 * Asserts that `code` is a currency settlekit accepts; use it to validate input at the edge.
 *
 * @param param - Field name reported on the error (default `"currency"`).
 * @throws {SettlekitError} `UNKNOWN_CURRENCY`, as {@link getCurrency}.
 */
export function assertCurrency(code: unknown, param = "currency"): asserts code is CurrencyCode {
  getCurrency(code as CurrencyCode, param);
}
