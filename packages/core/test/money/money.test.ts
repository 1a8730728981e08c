import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  add,
  compare,
  equals,
  isMoney,
  isNegative,
  isPositive,
  isZero,
  type Money,
  money,
  negate,
  subtract,
  sum,
  zero,
} from "../../src/money/index.js";
import { amountArb, currencyArb, expectError } from "./helpers.js";

const usd = (amount: bigint) => money(amount, "USD");

describe("money / zero / isMoney", () => {
  it("builds frozen values", () => {
    const m = money(1050n, "USD");
    expect(m).toEqual({ amount: 1050n, currency: "USD" });
    expect(Object.isFrozen(m)).toBe(true);
    expect(zero("JPY")).toEqual({ amount: 0n, currency: "JPY" });
  });

  it.each([
    ["the number 10.5", 10.5],
    ["the number 10", 10],
    ["NaN", Number.NaN],
    ['the string "10"', "10"],
    ["null", null],
  ])("rejects the non-bigint amount %s", (_label, amount) => {
    expectError(() => money(amount as never, "USD"), "INVALID_AMOUNT", "amount");
  });

  it("rejects unusable currencies", () => {
    expectError(() => money(1n, "usd"), "UNKNOWN_CURRENCY", "currency");
    expectError(() => money(1n, "XAU"), "UNKNOWN_CURRENCY", "currency");
    expectError(() => zero("ZZZ"), "UNKNOWN_CURRENCY", "currency");
  });

  it("isMoney recognises only well-formed values", () => {
    expect(isMoney({ amount: -3n, currency: "EUR" })).toBe(true);
    expect(isMoney({ amount: 3, currency: "EUR" })).toBe(false);
    expect(isMoney({ amount: 3n, currency: "eur" })).toBe(false);
    expect(isMoney({ amount: 3n })).toBe(false);
    expect(isMoney(null)).toBe(false);
    expect(isMoney(3n)).toBe(false);
  });
});

describe("arithmetic", () => {
  it("adds, subtracts and negates exactly, far beyond 2^63", () => {
    expect(add(usd(1050n), usd(-75n))).toEqual(usd(975n));
    expect(subtract(usd(100n), usd(250n))).toEqual(usd(-150n));
    expect(negate(usd(5n))).toEqual(usd(-5n));
    expect(negate(usd(0n)).amount).toBe(0n);
    const big = 2n ** 64n + 1n;
    expect(add(usd(big), usd(big)).amount).toBe(36893488147419103234n);
  });

  it("refuses to mix currencies", () => {
    const error = expectError(() => add(usd(1n), money(1n, "EUR")), "CURRENCY_MISMATCH", undefined);
    expect(error.message).toBe("Cannot combine USD and EUR amounts.");
    expect(error.details).toEqual({ currencies: ["USD", "EUR"] });
    expectError(() => subtract(usd(1n), money(1n, "JPY")), "CURRENCY_MISMATCH", undefined);
    expectError(() => compare(usd(1n), money(1n, "JPY")), "CURRENCY_MISMATCH", undefined);
  });

  it("predicates and comparison", () => {
    expect([isZero(usd(0n)), isNegative(usd(0n)), isPositive(usd(0n))]).toEqual([true, false, false]);
    expect([isZero(usd(-1n)), isNegative(usd(-1n)), isPositive(usd(-1n))]).toEqual([false, true, false]);
    expect([isZero(usd(1n)), isNegative(usd(1n)), isPositive(usd(1n))]).toEqual([false, false, true]);
    expect([compare(usd(1n), usd(2n)), compare(usd(2n), usd(2n)), compare(usd(3n), usd(2n))]).toEqual([
      -1, 0, 1,
    ]);
    expect([usd(3n), usd(-1n), usd(2n)].sort(compare).map((m) => m.amount)).toEqual([-1n, 2n, 3n]);
    expectError(() => isZero({ amount: 0, currency: "USD" } as never), "INVALID_AMOUNT", "amount");
  });

  it("equals is false, not an error, across currencies", () => {
    expect(equals(usd(5n), usd(5n))).toBe(true);
    expect(equals(usd(5n), usd(6n))).toBe(false);
    expect(equals(usd(5n), money(5n, "EUR"))).toBe(false);
  });

  it("sum adds a list, is zero for an empty one, and names the offending index", () => {
    expect(sum("USD", [usd(1n), usd(2n), usd(-10n)])).toEqual(usd(-7n));
    expect(sum("KWD", [])).toEqual(money(0n, "KWD"));
    const error = expectError(() => sum("USD", [usd(1n), money(1n, "EUR")]), "CURRENCY_MISMATCH", undefined);
    expect(error.details).toEqual({ currencies: ["USD", "EUR"], index: 1 });
    expectError(() => sum("usd", []), "UNKNOWN_CURRENCY", "currency");
  });
});

describe("properties", () => {
  const triple = currencyArb.chain((currency) =>
    fc
      .tuple(amountArb, amountArb, amountArb)
      .map((xs) => xs.map((x) => money(x, currency)) as [Money, Money, Money]),
  );

  it("add is associative and commutative, and sum agrees with folding add", () => {
    fc.assert(
      fc.property(triple, ([a, b, c]) => {
        expect(add(add(a, b), c)).toEqual(add(a, add(b, c)));
        expect(add(a, b)).toEqual(add(b, a));
        expect(sum(a.currency, [a, b, c])).toEqual(add(add(a, b), c));
        expect(sum(a.currency, [a, b, c])).toEqual(add(sum(a.currency, [a, b]), sum(a.currency, [c])));
      }),
    );
  });

  it("subtract inverts add, and negate is an involution", () => {
    fc.assert(
      fc.property(triple, ([a, b]) => {
        expect(subtract(add(a, b), b)).toEqual(a);
        expect(negate(negate(a))).toEqual(a);
        expect(isZero(add(a, negate(a)))).toBe(true);
        expect(compare(a, b)).toBe(-compare(b, a) || 0);
      }),
    );
  });
});
