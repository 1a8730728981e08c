import { ErrorCodes, SettlekitError } from "../errors.js";
import type { CurrencyCode } from "./currency.js";
import { type Money, money } from "./money.js";

/**
 * Bridges to edges that insist on JSON numbers (third-party APIs that send `"amount": 1050`).
 * Inside settlekit amounts are always `bigint`; these two functions are the only sanctioned
 * crossings, and both refuse any value a float64 cannot represent exactly, because past
 * 2^53 - 1 neighbouring integers collapse to the same number and money silently changes.
 */

/** Options for the safe-integer helpers. */
export interface SafeIntegerOptions {
  /** Field name reported on the error (default `"amount"`). */
  param?: string | undefined;
}

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const MIN = BigInt(Number.MIN_SAFE_INTEGER);

/**
 * The amount of `m` in minor units as a JavaScript `number`, for serialising to an API that
 * only takes numbers. Exact by construction.
 *
 * @throws {SettlekitError} `INVALID_AMOUNT` if the amount is outside
 *   `Number.MIN_SAFE_INTEGER..Number.MAX_SAFE_INTEGER`; `UNKNOWN_CURRENCY` for a bad Money.
 */
export function toMinorUnitsSafeNumber(m: Money, options: SafeIntegerOptions = {}): number {
  const { amount, currency } = money(m.amount, m.currency);
  if (amount > MAX || amount < MIN) {
    throw new SettlekitError(
      ErrorCodes.INVALID_AMOUNT,
      `Amount ${amount} ${currency} does not fit in a JSON number exactly (beyond ±${Number.MAX_SAFE_INTEGER}).`,
      { param: options.param ?? "amount", details: { currency } },
    );
  }
  return Number(amount);
}

/**
 * Builds a {@link Money} from a JSON number of minor units (`1050` USD is 10.50).
 * The number must already be an integer: `10.5` is rejected, not rounded, because a
 * fractional minor unit means the sender confused major and minor units.
 *
 * @throws {SettlekitError} `INVALID_AMOUNT` if `n` is not a safe integer (fractional, NaN,
 *   ±Infinity, beyond ±(2^53 - 1), or not a number at all); `UNKNOWN_CURRENCY` for a bad currency.
 */
export function fromSafeInteger(n: number, currency: CurrencyCode, options: SafeIntegerOptions = {}): Money {
  if (!Number.isSafeInteger(n)) {
    const shown = typeof n === "number" ? String(n) : `a ${typeof n}`;
    throw new SettlekitError(
      ErrorCodes.INVALID_AMOUNT,
      `Amount ${shown} is not a safe integer of minor units; expected an integer within ±${Number.MAX_SAFE_INTEGER}.`,
      { param: options.param ?? "amount" },
    );
  }
  // BigInt(-0) is 0n, so a stray negative zero cannot leak through.
  return money(BigInt(n), currency);
}
