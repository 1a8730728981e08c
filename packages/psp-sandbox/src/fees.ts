import type { PaymentInstrument } from "@settlekit/core";

/** Default percentage, in tenths of a percent: 2.9 %. */
const RATE_PER_MILLE = 29n;
/** Default fixed part, in minor units of whatever the currency is (USD 0.30, JPY 30, KWD 0.030). */
const FIXED_MINOR_UNITS = 30n;

/**
 * Divides a non-negative `numerator` by a positive `denominator`, rounding halves up. Bigint
 * division truncates, so adding half the denominator first gives half-up rounding exactly,
 * without ever going through a float.
 */
export function divideHalfUp(numerator: bigint, denominator: bigint): bigint {
  return (numerator * 2n + denominator) / (denominator * 2n);
}

/**
 * The sandbox's default fee: 2.9 % of the amount rounded half up to a minor unit, plus 30 minor
 * units, whatever the instrument: 12 345 → 358.005 → 358 + 30 = 388; 500 → 14.5 → 15 + 30 = 45.
 * Amounts are bigints end to end, so large amounts stay exact.
 *
 * @param amount - The charge, in minor units; positive.
 */
export function defaultFeePolicy(amount: bigint, _currency: string, _instrument: PaymentInstrument): bigint {
  return divideHalfUp(amount * RATE_PER_MILLE, 1_000n) + FIXED_MINOR_UNITS;
}
