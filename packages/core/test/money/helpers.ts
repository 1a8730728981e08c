import fc from "fast-check";
import { expect } from "vitest";
import { type ErrorCode, SettlekitError } from "../../src/errors.js";
import { ISO4217 } from "../../src/money/index.js";

/**
 * Runs `fn`, asserts it threw a SettlekitError with exactly this code and param, and returns
 * the error so tests can look at its message and details.
 */
export function expectError(fn: () => unknown, code: ErrorCode, param: string | undefined): SettlekitError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, "expected a SettlekitError to be thrown").toBeInstanceOf(SettlekitError);
  const error = thrown as SettlekitError;
  expect({ code: error.code, param: error.param }).toEqual({ code, param });
  return error;
}

/** Every code in the generated table that has a minor unit, i.e. every usable currency. */
export const usableCodes: readonly string[] = Object.values(ISO4217)
  .filter((entry) => entry.minorUnits !== null)
  .map((entry) => entry.code);

/** Codes the table lists as "N.A." (no minor unit). */
export const unusableCodes: readonly string[] = Object.values(ISO4217)
  .filter((entry) => entry.minorUnits === null)
  .map((entry) => entry.code);

/** A random usable currency. */
export const currencyArb = fc.constantFrom(...usableCodes);

/** Amounts from tiny to far beyond 2^63 (up to ±2^200), biased to include small and boundary values. */
export const amountArb = fc.oneof(
  fc.bigInt({ min: -1000n, max: 1000n }),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
  fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }),
);
