import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_FX_RATE_LENGTH, parseFxRate, ratioToFxRate } from "../../src/money/fx.js";
import { convertMinor, currencyExponent } from "../../src/money/index.js";
import { expectError, usableCodes } from "./helpers.js";

const runs = process.env.CI ? 500 : 200;

/** `digits / 10^fractionDigits` written as a decimal string, e.g. (15723n, 2) → "157.23". */
function decimal(digits: bigint, fractionDigits: number): string {
  const text = digits.toString().padStart(fractionDigits + 1, "0");
  const cut = text.length - fractionDigits;
  return fractionDigits === 0 ? text : `${text.slice(0, cut)}.${text.slice(cut)}`;
}

describe("convertMinor", () => {
  it.each([
    // USD 123.45 at 157.23 = JPY 19 410.0435: floor to 19 410, 1 % spread = ceil(194.10) = 195
    [12_345n, "USD", "JPY", "157.23", 100, 19_410n, 195n],
    // USD 100.00 at 157.23 is exactly JPY 15 723
    [10_000n, "USD", "JPY", "157.23", 0, 15_723n, 0n],
    // EUR 1 234.56 at 0.32517 = KWD 401.4412... → 401 441 fils; 0.5 % = ceil(2007.205) = 2008
    [123_456n, "EUR", "KWD", "0.32517", 50, 401_441n, 2_008n],
    // JPY 12 345 at 0.0063601 = USD 78.5154345 → 7 851 cents; 2.5 % = ceil(196.275) = 197
    [12_345n, "JPY", "USD", "0.0063601", 250, 7_851n, 197n],
    // KWD 1.000 (1000 fils) at 3.2 = USD 3.20: exponent 3 → 2
    [1_000n, "KWD", "USD", "3.2", 0, 320n, 0n],
    // JPY 1 at 0.0064 is 0.64 cents: nothing (the caller's minimum decides)
    [1n, "JPY", "USD", "0.0064", 100, 0n, 0n],
    // the whole converted amount as spread
    [10_000n, "USD", "JPY", "157.23", 10_000, 15_723n, 15_723n],
    // 2^53 − 1 cents, and a rate with leading zeros and many digits
    [
      BigInt(Number.MAX_SAFE_INTEGER),
      "USD",
      "JPY",
      "157.23",
      150,
      14_162_019_388_229_260n,
      212_430_290_823_439n,
    ],
    [BigInt(Number.MAX_SAFE_INTEGER), "USD", "JPY", "00157.2300000000", 0, 14_162_019_388_229_260n, 0n],
  ])(
    "%s %s → %s at %s, spread %s bps: converted %s, spread %s",
    (amount, from, to, rate, spreadBps, converted, spread) => {
      expect(convertMinor({ amount, from, to, rate, spreadBps })).toEqual({
        convertedAmount: converted,
        spreadAmount: spread,
        amount: converted - spread,
      });
    },
  );

  it("converts 2^53 − 1 minor units exactly, far beyond what a float holds", () => {
    const amount = BigInt(Number.MAX_SAFE_INTEGER);
    // 9007199254740991 × 1.000000000000000001 = 9007199254740991.000000000000000009...: floor keeps every digit
    expect(
      convertMinor({ amount, from: "USD", to: "EUR", rate: "1.000000000000000001", spreadBps: 0 }),
    ).toEqual({
      convertedAmount: amount,
      spreadAmount: 0n,
      amount,
    });
    expect(
      convertMinor({ amount, from: "KWD", to: "JPY", rate: "504.074791647", spreadBps: 1 }).convertedAmount,
    ).toBe((amount * 504_074_791_647n) / 10n ** 12n);
  });

  it.each([0n, -1n, 1, "100", undefined])("rejects the amount %s as INVALID_AMOUNT", (amount) => {
    expectError(
      () => convertMinor({ amount: amount as bigint, from: "USD", to: "JPY", rate: "157.23", spreadBps: 0 }),
      "INVALID_AMOUNT",
      "amount",
    );
  });

  it.each([
    "",
    "0",
    "0.000",
    "-1",
    "+1",
    "1e3",
    "1E-3",
    "1.",
    ".5",
    " 1",
    "1 ",
    "1,5",
    "0x10",
    "Infinity",
    "NaN",
    "1".repeat(MAX_FX_RATE_LENGTH + 1),
    157.23,
    null,
  ])("rejects the rate %s as VALIDATION_FAILED", (rate) => {
    expectError(
      () => convertMinor({ amount: 100n, from: "USD", to: "JPY", rate: rate as string, spreadBps: 0 }),
      "VALIDATION_FAILED",
      "rate",
    );
  });

  it("accepts a rate of the longest allowed length", () => {
    const rate = `1.${"0".repeat(MAX_FX_RATE_LENGTH - 2)}`;
    expect(convertMinor({ amount: 100n, from: "USD", to: "EUR", rate, spreadBps: 0 }).convertedAmount).toBe(
      100n,
    );
  });

  it.each([-1, 10_001, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "100", undefined])(
    "rejects spreadBps %s as VALIDATION_FAILED",
    (spreadBps) => {
      expectError(
        () =>
          convertMinor({
            amount: 100n,
            from: "USD",
            to: "JPY",
            rate: "157.23",
            spreadBps: spreadBps as number,
          }),
        "VALIDATION_FAILED",
        "spreadBps",
      );
    },
  );

  it("rejects converting a currency into itself, and unknown currencies", () => {
    expectError(
      () => convertMinor({ amount: 100n, from: "USD", to: "USD", rate: "1", spreadBps: 0 }),
      "VALIDATION_FAILED",
      "to",
    );
    expectError(
      () => convertMinor({ amount: 100n, from: "usd", to: "JPY", rate: "157.23", spreadBps: 0 }),
      "UNKNOWN_CURRENCY",
      "from",
    );
    expectError(
      () => convertMinor({ amount: 100n, from: "USD", to: "XAU", rate: "0.0004", spreadBps: 0 }),
      "UNKNOWN_CURRENCY",
      "to",
    );
  });

  it("never gives more than the exact value, and at most one minor unit less (property)", () => {
    const pairArb = fc
      .tuple(fc.constantFrom(...usableCodes), fc.constantFrom(...usableCodes))
      .filter(([from, to]) => from !== to);
    const rateArb = fc
      .tuple(fc.bigInt({ min: 1n, max: 10n ** 24n }), fc.integer({ min: 0, max: 14 }))
      .map(([digits, fractionDigits]) => ({ digits, fractionDigits, text: decimal(digits, fractionDigits) }));
    fc.assert(
      fc.property(
        pairArb,
        fc.bigInt({ min: 1n, max: BigInt(Number.MAX_SAFE_INTEGER) }),
        rateArb,
        fc.integer({ min: 0, max: 10_000 }),
        ([from, to], amount, rate, spreadBps) => {
          const result = convertMinor({ amount, from, to, rate: rate.text, spreadBps });
          // exact = amount / 10^exp(from) major units × digits / 10^fractionDigits, in minor units of `to`:
          // exact = amount × digits × 10^exp(to) / 10^(exp(from) + fractionDigits)
          const top = amount * rate.digits * 10n ** BigInt(currencyExponent(to));
          const bottom = 10n ** BigInt(currencyExponent(from) + rate.fractionDigits);
          expect(result.convertedAmount * bottom <= top, "never more than the exact value").toBe(true);
          expect((result.convertedAmount + 1n) * bottom > top, "less than one minor unit below it").toBe(
            true,
          );
          // spread = ceil(converted × bps / 10000), exactly
          const spreadTimes = result.convertedAmount * BigInt(spreadBps);
          expect(
            result.spreadAmount * 10_000n >= spreadTimes,
            "the spread is at least bps of converted",
          ).toBe(true);
          expect((result.spreadAmount - 1n) * 10_000n < spreadTimes, "and less than one unit more").toBe(
            true,
          );
          expect(result.amount + result.spreadAmount).toBe(result.convertedAmount);
          expect(result.amount >= 0n && result.spreadAmount >= 0n).toBe(true);
        },
      ),
      { numRuns: runs },
    );
  });
});

describe("FX rate strings", () => {
  it("parseFxRate reads the exact fraction", () => {
    expect(parseFxRate("157.23")).toEqual({ numerator: 15_723n, denominator: 100n });
    expect(parseFxRate("0007")).toEqual({ numerator: 7n, denominator: 1n });
    expect(parseFxRate("0.000001")).toEqual({ numerator: 1n, denominator: 1_000_000n });
  });

  it.each([
    [1n, 1n, "1"],
    [15_723n, 100n, "157.23"],
    [163_910n, 1_000n, "163.91"],
    [10_000n, 10_512n, "0.951293759512"],
    [1_639_100n, 10_512n, "155.926560121"],
    [10_512n, 1_639_100n, "0.00641327557806"],
    [1n, 3n, "0.333333333333"],
    [2n, 3n, "0.666666666666"],
    [10n ** 15n, 1n, "1000000000000000"],
    [10n ** 15n + 7n, 1n, "1000000000000000"],
    [123_456_789_012_345n, 1_000n, "123456789012"],
    [123_456_789_012_345n, 1_000_000n, "123456789.012"],
    [1n, 10n ** 20n, "0.00000000000000000001"],
  ])("ratioToFxRate(%s / %s) is %s", (numerator, denominator, expected) => {
    expect(ratioToFxRate({ numerator, denominator }, 12)).toBe(expected);
  });

  it("ratioToFxRate rounds toward zero to the significant digits asked (property)", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 30n }),
        fc.bigInt({ min: 1n, max: 10n ** 30n }),
        fc.integer({ min: 1, max: 18 }),
        (numerator, denominator, digits) => {
          let text: string;
          try {
            text = ratioToFxRate({ numerator, denominator }, digits);
          } catch {
            return; // only a result longer than the limit may throw
          }
          const { numerator: n, denominator: d } = parseFxRate(text);
          // n/d ≤ numerator/denominator
          expect(n * denominator <= numerator * d).toBe(true);
          const [whole = "", fraction = ""] = text.split(".");
          const significant = (whole + fraction).replace(/^0+/, "").replace(/0+$/, "");
          expect(significant.length).toBeLessThanOrEqual(digits);
          // The power of ten of the leading digit, and of the last one kept: adding one unit there
          // must overshoot the exact value (nothing beyond the kept digits was dropped but a fraction of it).
          const leading = /[1-9]/.test(whole)
            ? whole.replace(/^0+/, "").length - 1
            : -(fraction.search(/[1-9]/) + 1);
          const last = leading - digits + 1;
          const [up, scale] =
            last >= 0
              ? [n + 10n ** BigInt(last) * d, 1n]
              : [n * 10n ** BigInt(-last) + d, 10n ** BigInt(-last)];
          // (up / (d × scale)) > numerator / denominator
          expect(up * denominator > numerator * d * scale).toBe(true);
        },
      ),
      { numRuns: runs },
    );
  });
});
