import { currencyExponent, PspError } from "@settlekit/core";

/**
 * Stripe's currency rules on top of ISO 4217 (https://docs.stripe.com/currencies). Settlekit holds
 * amounts in ISO minor units; Stripe's API counts in its own "smallest unit", which differs for a
 * few currencies, and refuses amounts its payment partners cannot carry.
 */

/** Zero-decimal at Stripe (amount 500 is ¥500). MGA has two decimals in ISO 4217 but none at Stripe. */
const ZERO_DECIMAL = new Set([
  "BIF",
  "CLP",
  "DJF",
  "GNF",
  "JPY",
  "KMF",
  "KRW",
  "MGA",
  "PYG",
  "RWF",
  "UGX",
  "VND",
  "VUV",
  "XAF",
  "XOF",
  "XPF",
]);

/**
 * ISK has no minor unit in ISO 4217 but stays two-decimal in Stripe's API (100 is 1 króna), with
 * every amount a whole króna. (HUF and TWD need whole units only in Stripe's *payouts* to a bank
 * account, which settlekit never creates: charges, refunds and Connect transfers take cents.)
 */
const TWO_DECIMAL_WHOLE = new Set(["ISK"]);

/** Digits after the point in Stripe's API amounts for `currency` (ISO uppercase code). */
export function stripeExponent(currency: string): number {
  if (ZERO_DECIMAL.has(currency)) return 0;
  if (TWO_DECIMAL_WHOLE.has(currency)) return 2;
  return currencyExponent(currency);
}

const rejected = (message: string, param: string, pspCode = "invalid_amount") =>
  new PspError("PSP_REQUEST_REJECTED", "fatal", message, { pspCode, param });

/**
 * Converts settlekit minor units into a Stripe API amount, refusing (fatal `PSP_REQUEST_REJECTED`,
 * before any request) what Stripe would refuse or what cannot be sent exactly:
 * - a zero-decimal currency whose ISO exponent is larger (MGA) needs a whole number of units;
 * - three-decimal currencies (KWD, BHD, JOD, OMR, TND) need the last digit 0;
 * - ISK needs whole units (Stripe amount divisible by 100);
 * - the result must fit a JSON number exactly (2^53 − 1).
 */
export function toStripeAmount(amount: bigint, currency: string, options: { param?: string } = {}): number {
  const param = options.param ?? "amount";
  const iso = currencyExponent(currency);
  const stripe = stripeExponent(currency);
  let units = amount;
  if (stripe >= iso) {
    units = amount * 10n ** BigInt(stripe - iso);
  } else {
    const factor = 10n ** BigInt(iso - stripe);
    if (amount % factor !== 0n) {
      throw rejected(
        `${currency} is zero-decimal at Stripe: ${amount} minor units is not a whole amount.`,
        param,
      );
    }
    units = amount / factor;
  }
  if (stripe === 3 && units % 10n !== 0n) {
    throw rejected(`Stripe needs ${currency} amounts whose last digit is 0; got ${amount}.`, param);
  }
  if (TWO_DECIMAL_WHOLE.has(currency) && units % 100n !== 0n) {
    throw rejected(
      `Stripe needs whole ${currency} amounts (divisible by 100 in its API); got ${units}.`,
      param,
    );
  }
  if (units > BigInt(Number.MAX_SAFE_INTEGER) || units < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw rejected(
      `Amount ${amount} ${currency} is too large to send to Stripe exactly.`,
      param,
      "amount_too_large",
    );
  }
  return Number(units);
}

/**
 * Converts a Stripe API amount (an integer JSON number, possibly negative) into settlekit minor
 * units. Stripe never sends fractions of a settlekit minor unit for amounts it accepted; should it,
 * this throws rather than round.
 */
export function fromStripeAmount(units: number, currency: string): bigint {
  if (!Number.isSafeInteger(units)) {
    throw new PspError("PSP_REQUEST_REJECTED", "fatal", `Stripe sent a non-integer amount ${units}.`, {
      pspCode: "malformed_response",
    });
  }
  const shift = currencyExponent(currency) - stripeExponent(currency);
  if (shift >= 0) return BigInt(units) * 10n ** BigInt(shift);
  const factor = 10n ** BigInt(-shift);
  if (BigInt(units) % factor !== 0n) {
    throw new PspError(
      "PSP_REQUEST_REJECTED",
      "fatal",
      `Stripe amount ${units} ${currency} is not a whole number of ISO 4217 minor units.`,
      { pspCode: "malformed_response" },
    );
  }
  return BigInt(units) / factor;
}

/** Stripe's lowercase code → settlekit's uppercase ISO code. */
export const isoCurrency = (stripeCurrency: string): string => stripeCurrency.toUpperCase();
/** Settlekit's ISO code → Stripe's lowercase code. */
export const stripeCurrency = (currency: string): string => currency.toLowerCase();
