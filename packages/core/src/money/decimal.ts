import { ErrorCodes, SettlekitError } from "../errors.js";
import { type CurrencyCode, currencyExponent } from "./currency.js";
import { type Money, money } from "./money.js";

/** Options for {@link parseMoney}. */
export interface ParseMoneyOptions {
  /** Field name reported on format errors (default `"amount"`), e.g. `"orders.2.amount"`. */
  param?: string | undefined;
}

/**
 * Sign, integer digits, optional fraction. ASCII digits spelled out as `[0-9]` so the intent is
 * explicit; no whitespace, no `+`, no exponent, no grouping, at least one digit on each side of
 * the point. Anchored, so nothing may precede or follow.
 */
const DECIMAL = /^(-?)([0-9]+)(?:\.([0-9]+))?$/;

/**
 * Parses an exact decimal string into minor units, without ever touching a float.
 *
 * Accepted: an optional leading `-`, one or more digits, and optionally `.` followed by 1 to
 * `exponent` digits. Leading zeros are fine (`"007"`), and so is `"-0"` (it is zero).
 * Deliberately strict, because these strings come from API clients and a lenient parser hides
 * their bugs:
 * - `""`, `"."`, `"1."`, `".5"`, `"+1"`, `"1e3"`, `" 1"`, `"1,00"`, `"NaN"`, `"--1"`, and any
 *   non-string are `INVALID_MONEY_FORMAT`; so is `"100."` for JPY (a point needs digits after it).
 * - More fraction digits than the currency's exponent are `TOO_MANY_DECIMALS`, even when the
 *   extras are zeros (`"10.100"` USD), so no input is ever rounded or silently truncated;
 *   `"100.5"` JPY is `TOO_MANY_DECIMALS` too.
 * - Fewer fraction digits than the exponent are padded: `"12.3"` USD is `1230n`.
 *
 * @throws {SettlekitError} `INVALID_MONEY_FORMAT` or `TOO_MANY_DECIMALS` with `param` from
 *   `options` (default `"amount"`); `UNKNOWN_CURRENCY` (param `"currency"`) for a bad currency.
 */
export function parseMoney(value: string, currency: CurrencyCode, options: ParseMoneyOptions = {}): Money {
  const param = options.param ?? "amount";
  const exponent = currencyExponent(currency);
  const match = typeof value === "string" ? DECIMAL.exec(value) : null;
  if (match === null) {
    const shown = typeof value === "string" ? JSON.stringify(value) : `a ${typeof value}`;
    throw new SettlekitError(
      ErrorCodes.INVALID_MONEY_FORMAT,
      `Invalid amount ${shown}: expected a decimal string like "12.34" (optional "-", digits, optional "." and digits).`,
      { param },
    );
  }
  const [, sign, whole = "", fraction = ""] = match;
  if (fraction.length > exponent) {
    throw new SettlekitError(
      ErrorCodes.TOO_MANY_DECIMALS,
      `Amount ${JSON.stringify(value)} has ${fraction.length} decimal places; ${currency} allows at most ${exponent}.`,
      { param, details: { currency, exponent } },
    );
  }
  // Concatenating digits and padding is exact: "12.3" in USD is the integer "1230".
  const minor = BigInt(whole + fraction.padEnd(exponent, "0"));
  return money(sign === "-" ? -minor : minor, currency);
}

/**
 * Formats `m` as an exact decimal string with exactly the currency's exponent of fraction
 * digits: `"12.30"`, `"-0.05"`, JPY `"100"`, KWD `"1.005"`, CLF `"0.0001"`. No grouping, no
 * symbol, no locale; this is the wire format, and `parseMoney(formatMoney(m), m.currency)`
 * always returns `m`. Zero is never `"-0.00"`.
 *
 * @throws {SettlekitError} `INVALID_AMOUNT` / `UNKNOWN_CURRENCY` if `m` is not a valid Money.
 */
export function formatMoney(m: Money): string {
  const { amount, currency } = money(m.amount, m.currency);
  const exponent = currencyExponent(currency);
  const negative = amount < 0n;
  // padStart guarantees at least one integer digit: 5n in USD becomes "005" -> "0.05".
  const digits = (negative ? -amount : amount).toString().padStart(exponent + 1, "0");
  const cut = digits.length - exponent;
  const body = exponent === 0 ? digits : `${digits.slice(0, cut)}.${digits.slice(cut)}`;
  return negative ? `-${body}` : body;
}
