import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromSafeInteger, money, toMinorUnitsSafeNumber } from "../../src/money/index.js";
import { currencyArb, expectError } from "./helpers.js";

const MAX = Number.MAX_SAFE_INTEGER;
const MIN = Number.MIN_SAFE_INTEGER;

describe("toMinorUnitsSafeNumber", () => {
  it("returns the exact number inside the safe range, edges included", () => {
    expect(toMinorUnitsSafeNumber(money(1050n, "USD"))).toBe(1050);
    expect(toMinorUnitsSafeNumber(money(-5n, "USD"))).toBe(-5);
    expect(toMinorUnitsSafeNumber(money(0n, "JPY"))).toBe(0);
    expect(toMinorUnitsSafeNumber(money(9007199254740991n, "USD"))).toBe(MAX);
    expect(toMinorUnitsSafeNumber(money(-9007199254740991n, "USD"))).toBe(MIN);
  });

  it.each([9007199254740992n, -9007199254740992n, 2n ** 64n])("rejects %s as INVALID_AMOUNT", (amount) => {
    const error = expectError(() => toMinorUnitsSafeNumber(money(amount, "USD")), "INVALID_AMOUNT", "amount");
    expect(error.message).toBe(
      `Amount ${amount} USD does not fit in a JSON number exactly (beyond ±9007199254740991).`,
    );
  });

  it("uses the caller's param and validates the Money", () => {
    expectError(
      () => toMinorUnitsSafeNumber(money(2n ** 60n, "USD"), { param: "payout.amount" }),
      "INVALID_AMOUNT",
      "payout.amount",
    );
    expectError(
      () => toMinorUnitsSafeNumber({ amount: 5, currency: "USD" } as never),
      "INVALID_AMOUNT",
      "amount",
    );
  });
});

describe("fromSafeInteger", () => {
  it("builds Money from integers, edges included", () => {
    expect(fromSafeInteger(1050, "USD")).toEqual(money(1050n, "USD"));
    expect(fromSafeInteger(MAX, "KWD")).toEqual(money(9007199254740991n, "KWD"));
    expect(fromSafeInteger(MIN, "KWD")).toEqual(money(-9007199254740991n, "KWD"));
    expect(fromSafeInteger(-0, "JPY").amount).toBe(0n);
  });

  it.each([
    10.5,
    0.1,
    MAX + 1,
    MIN - 1,
    1e21,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ])("rejects %s as INVALID_AMOUNT", (n) => {
    const error = expectError(() => fromSafeInteger(n, "USD"), "INVALID_AMOUNT", "amount");
    expect(error.message).toBe(
      `Amount ${n} is not a safe integer of minor units; expected an integer within ±9007199254740991.`,
    );
  });

  it("rejects non-numbers, uses the caller's param, and validates the currency", () => {
    expectError(() => fromSafeInteger(10n as never, "USD"), "INVALID_AMOUNT", "amount");
    expectError(() => fromSafeInteger("10" as never, "USD", { param: "fee" }), "INVALID_AMOUNT", "fee");
    expectError(() => fromSafeInteger(10, "usd"), "UNKNOWN_CURRENCY", "currency");
  });

  it("round-trips every safe integer (property)", () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.integer(), currencyArb, (big, small, currency) => {
        for (const n of [big, small]) {
          expect(toMinorUnitsSafeNumber(fromSafeInteger(n, currency))).toBe(n);
          expect(fromSafeInteger(n, currency).amount).toBe(BigInt(n));
        }
      }),
    );
  });
});
