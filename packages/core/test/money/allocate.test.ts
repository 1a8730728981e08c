import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocate, money, sum } from "../../src/money/index.js";
import { amountArb, currencyArb, expectError } from "./helpers.js";

const amounts = (parts: readonly { amount: bigint }[]) => parts.map((p) => p.amount);

describe("allocate", () => {
  it.each([
    [100n, [1, 1, 1], [34n, 33n, 33n]],
    [5n, [70, 30], [4n, 1n]],
    [5n, [30, 70], [2n, 3n]], // 1.5 and 3.5 tie: index 0 takes the spare unit
    [1n, [1, 1, 1], [1n, 0n, 0n]],
    [2n, [1, 1, 1], [1n, 1n, 0n]],
    [10n, [0, 1, 0], [0n, 10n, 0n]],
    [0n, [3, 7], [0n, 0n]],
    [1000n, [1n, 2n, 3n, 4n], [100n, 200n, 300n, 400n]],
    [7n, [1, 2], [2n, 5n]],
    [101n, [1, 1, 2n], [25n, 25n, 51n]], // remainders 1, 1, 2 (of 4): the largest wins
    [-100n, [1, 1, 1], [-34n, -33n, -33n]],
    [-5n, [70, 30], [-4n, -1n]],
  ])("splits %s by %s into %s", (total, ratios, expected) => {
    const parts = allocate(money(total, "USD"), ratios);
    expect(amounts(parts)).toEqual(expected);
    expect(parts.every((p) => p.currency === "USD")).toBe(true);
  });

  it("works in every exponent class and far beyond 2^63", () => {
    expect(amounts(allocate(money(10n, "JPY"), [1, 2]))).toEqual([3n, 7n]);
    expect(amounts(allocate(money(1n, "KWD"), [1, 1]))).toEqual([1n, 0n]);
    const big = 2n ** 100n + 1n;
    expect(amounts(allocate(money(big, "CLF"), [1, 1]))).toEqual([2n ** 99n + 1n, 2n ** 99n]);
  });

  it.each([
    [[], undefined],
    [[0, 0], undefined],
    [[0n], undefined],
    [[1, -1], { index: 1 }],
    [[-1n, 2n], { index: 0 }],
    [[1, 0.5], { index: 1 }],
    [[Number.NaN], { index: 0 }],
    [[Number.POSITIVE_INFINITY], { index: 0 }],
    [[2 ** 53], { index: 0 }],
    [[1, "2"], { index: 1 }],
  ])("rejects ratios %s as INVALID_ALLOCATION", (ratios, details) => {
    const error = expectError(
      () => allocate(money(100n, "USD"), ratios as never),
      "INVALID_ALLOCATION",
      "ratios",
    );
    expect(error.details).toEqual(details);
  });

  it("rejects a non-array and a malformed Money", () => {
    expectError(() => allocate(money(1n, "USD"), "11" as never), "INVALID_ALLOCATION", "ratios");
    expectError(() => allocate({ amount: 1, currency: "USD" } as never, [1]), "INVALID_AMOUNT", "amount");
  });
});

describe("properties", () => {
  const ratiosArb = fc
    .array(fc.oneof(fc.nat({ max: 10 }), fc.maxSafeNat(), fc.bigInt({ min: 0n, max: 2n ** 80n })), {
      minLength: 1,
      maxLength: 12,
    })
    .filter((rs) => rs.some((r) => BigInt(r) > 0n));

  it("parts sum to the whole, each within one minor unit of its exact share, zero ratios get zero", () => {
    fc.assert(
      fc.property(amountArb, currencyArb, ratiosArb, (amount, currency, ratios) => {
        const m = money(amount, currency);
        const parts = allocate(m, ratios);
        expect(parts).toHaveLength(ratios.length);
        expect(sum(currency, parts)).toEqual(m);
        const total = ratios.reduce<bigint>((acc, r) => acc + BigInt(r), 0n);
        parts.forEach((part, i) => {
          const r = BigInt(ratios[i]!);
          // |part - amount * r / total| < 1, multiplied through by total to stay in integers.
          const error = part.amount * total - amount * r;
          expect(error < total && error > -total).toBe(true);
          if (r === 0n) expect(part.amount).toBe(0n);
          // Signs never flip: every part has the sign of the whole (or is zero).
          expect(amount >= 0n ? part.amount >= 0n : part.amount <= 0n).toBe(true);
        });
      }),
      { numRuns: 500 },
    );
  });

  it("is deterministic and symmetric in sign", () => {
    fc.assert(
      fc.property(amountArb, ratiosArb, (amount, ratios) => {
        const first = amounts(allocate(money(amount, "EUR"), ratios));
        expect(amounts(allocate(money(amount, "EUR"), [...ratios]))).toEqual(first);
        expect(amounts(allocate(money(-amount, "EUR"), ratios))).toEqual(first.map((x) => -x));
      }),
    );
  });
});
