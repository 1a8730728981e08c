import { ErrorCodes, SettlekitError } from "../errors.js";
import { assertCurrency, type CurrencyCode } from "./currency.js";

/**
 * An exact amount of one currency, in integer minor units (cents for USD, yen for JPY, fils
 * for KWD). `bigint` so that no amount is ever rounded through a float and none overflows.
 * Values built by this module are frozen; treat every `Money` as immutable.
 */
export interface Money {
  /** Minor units; may be negative (refunds, reversals, debit balances). */
  readonly amount: bigint;
  /** Uppercase ISO 4217 alphabetic code with a minor unit. */
  readonly currency: CurrencyCode;
}

/**
 * Builds a {@link Money}. This is the one place amounts enter the module, so it validates both
 * halves: JavaScript callers can pass anything, and a `number` here would be a silent float.
 *
 * @param amount - Minor units as a `bigint` (`1050n` is USD 10.50).
 * @param currency - Uppercase ISO 4217 code (`"USD"`).
 * @throws {SettlekitError} `INVALID_AMOUNT` (param `amount`) if `amount` is not a bigint;
 *   `UNKNOWN_CURRENCY` (param `currency`) if the currency is not usable.
 */
export function money(amount: bigint, currency: CurrencyCode): Money {
  if (typeof amount !== "bigint") {
    throw new SettlekitError(
      ErrorCodes.INVALID_AMOUNT,
      `Amount must be a bigint of minor units, got ${typeof amount}; use parseMoney() for decimal strings.`,
      { param: "amount" },
    );
  }
  assertCurrency(currency, "currency");
  return Object.freeze({ amount, currency });
}

/** Zero in `currency`. @throws {SettlekitError} `UNKNOWN_CURRENCY`. */
export function zero(currency: CurrencyCode): Money {
  return money(0n, currency);
}

/** Whether `value` is a well-formed {@link Money} (bigint amount, usable currency). Never throws. */
export function isMoney(value: unknown): value is Money {
  if (typeof value !== "object" || value === null) return false;
  const { amount, currency } = value as Partial<Money>;
  try {
    money(amount as bigint, currency as CurrencyCode);
    return true;
  } catch {
    return false;
  }
}

/** Throws unless both are the same currency; ordering or summing across currencies is meaningless. */
function assertSameCurrency(a: Money, b: Money): void {
  if (a.currency !== b.currency) {
    throw new SettlekitError(
      ErrorCodes.CURRENCY_MISMATCH,
      `Cannot combine ${a.currency} and ${b.currency} amounts.`,
      { details: { currencies: [a.currency, b.currency] } },
    );
  }
}

/** `a + b`. @throws {SettlekitError} `CURRENCY_MISMATCH` if the currencies differ. */
export function add(a: Money, b: Money): Money {
  assertSameCurrency(a, b);
  return money(a.amount + b.amount, a.currency);
}

/** `a - b`. @throws {SettlekitError} `CURRENCY_MISMATCH` if the currencies differ. */
export function subtract(a: Money, b: Money): Money {
  assertSameCurrency(a, b);
  return money(a.amount - b.amount, a.currency);
}

/** `-m`. Negating zero gives zero (bigint has no negative zero). */
export function negate(m: Money): Money {
  return money(-m.amount, m.currency);
}

/** Whether the amount is exactly zero. */
export function isZero(m: Money): boolean {
  return money(m.amount, m.currency).amount === 0n;
}

/** Whether the amount is below zero. */
export function isNegative(m: Money): boolean {
  return money(m.amount, m.currency).amount < 0n;
}

/** Whether the amount is above zero. */
export function isPositive(m: Money): boolean {
  return money(m.amount, m.currency).amount > 0n;
}

/**
 * Orders two amounts of one currency: `-1` if `a < b`, `0` if equal, `1` if `a > b`
 * (usable directly as an `Array#sort` comparator).
 * @throws {SettlekitError} `CURRENCY_MISMATCH` if the currencies differ.
 */
export function compare(a: Money, b: Money): -1 | 0 | 1 {
  assertSameCurrency(a, b);
  return a.amount < b.amount ? -1 : a.amount > b.amount ? 1 : 0;
}

/**
 * Whether `a` and `b` are the same amount of the same currency. Unlike {@link compare} this
 * does not throw on different currencies: "is USD 1 equal to EUR 1?" has a well-defined answer, no.
 */
export function equals(a: Money, b: Money): boolean {
  return a.currency === b.currency && a.amount === b.amount;
}

/**
 * Adds up `items`, all of which must be in `currency`. The currency is explicit so an empty
 * list still has a well-defined result: zero of that currency.
 *
 * @throws {SettlekitError} `UNKNOWN_CURRENCY` for a bad `currency`; `CURRENCY_MISMATCH` if any
 *   item is in another currency (its position is in `details.index`).
 */
export function sum(currency: CurrencyCode, items: Iterable<Money>): Money {
  let total = zero(currency).amount;
  let index = 0;
  for (const item of items) {
    if (item.currency !== currency) {
      throw new SettlekitError(
        ErrorCodes.CURRENCY_MISMATCH,
        `Cannot sum a ${item.currency} amount (item ${index}) into a ${currency} total.`,
        { details: { currencies: [currency, item.currency], index } },
      );
    }
    total += money(item.amount, currency).amount;
    index += 1;
  }
  return money(total, currency);
}
