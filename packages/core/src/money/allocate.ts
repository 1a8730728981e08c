import { ErrorCodes, SettlekitError } from "../errors.js";
import { type Money, money } from "./money.js";

/** Throws `INVALID_ALLOCATION` (param `ratios`), the only error {@link allocate} raises for its ratios. */
function invalid(message: string, details?: Record<string, unknown>): never {
  throw new SettlekitError(ErrorCodes.INVALID_ALLOCATION, message, { param: "ratios", details });
}

/**
 * Converts ratios to bigints, rejecting anything that is not a non-negative integer. Numbers
 * must be safe integers: a fractional or imprecise ratio would bring float rounding back in.
 */
function toBigIntRatios(ratios: readonly (bigint | number)[]): bigint[] {
  if (!Array.isArray(ratios) || ratios.length === 0) invalid("Ratios must be a non-empty array.");
  return ratios.map((ratio, index) => {
    if (typeof ratio === "number" && !Number.isSafeInteger(ratio)) {
      invalid(`Ratio ${index} is ${ratio}; ratios must be non-negative safe integers.`, { index });
    }
    if (typeof ratio !== "bigint" && typeof ratio !== "number") {
      invalid(`Ratio ${index} is a ${typeof ratio}; ratios must be bigints or integers.`, { index });
    }
    const value = BigInt(ratio);
    if (value < 0n) invalid(`Ratio ${index} is negative (${value}); ratios must be >= 0.`, { index });
    return value;
  });
}

/**
 * Splits `m` into parts proportional to `ratios`, losing nothing: the parts always sum to `m`
 * exactly. Uses the largest-remainder (Hamilton) method in pure bigint arithmetic:
 *
 * 1. each part gets `floor(|total| * r_i / Σr)`;
 * 2. the minor units left over (fewer than the number of parts) go one each to the parts with
 *    the largest remainder `|total| * r_i mod Σr`, ties broken by the lowest index.
 *
 * So every part is within one minor unit of its exact share, a zero ratio always gets exactly
 * zero, and the same input always gives the same output. A negative total is allocated by its
 * absolute value and each part negated, so all parts are `<= 0` and rounding favours the same
 * indices as for the positive amount.
 *
 * @example allocate(money(100n, "USD"), [1, 1, 1]) // 34n, 33n, 33n
 * @example allocate(money(5n, "USD"), [70, 30])   // 4n, 1n (3.5 and 1.5: tie, index 0 wins)
 * @param ratios - Non-negative integers (`bigint`, or `number` that is a safe integer), at least one > 0.
 * @returns One Money per ratio, in the same order and currency as `m`.
 * @throws {SettlekitError} `INVALID_ALLOCATION` (param `ratios`) for an empty array, a negative,
 *   fractional or unsafe ratio, or all-zero ratios; `INVALID_AMOUNT` / `UNKNOWN_CURRENCY` for a bad `m`.
 */
export function allocate(m: Money, ratios: readonly (bigint | number)[]): Money[] {
  const { amount, currency } = money(m.amount, m.currency);
  const weights = toBigIntRatios(ratios);
  const totalWeight = weights.reduce((acc, w) => acc + w, 0n);
  if (totalWeight === 0n) invalid("At least one ratio must be greater than zero.");

  const whole = amount < 0n ? -amount : amount;
  const shares = weights.map((w) => (whole * w) / totalWeight);
  const remainders = weights.map((w) => (whole * w) % totalWeight);
  let leftover = whole - shares.reduce((acc, s) => acc + s, 0n);

  // Largest remainder first; equal remainders keep index order so the result is deterministic.
  const order = weights.map((_, i) => i);
  order.sort((a, b) => {
    const ra = remainders[a]!;
    const rb = remainders[b]!;
    return ra === rb ? a - b : ra > rb ? -1 : 1;
  });
  // leftover < number of parts (Σ remainders = leftover * Σr, each remainder < Σr), so one pass suffices.
  for (const i of order) {
    if (leftover === 0n) break;
    shares[i]! += 1n;
    leftover -= 1n;
  }
  return shares.map((share) => money(amount < 0n ? -share : share, currency));
}
