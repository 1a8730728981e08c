import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RefundableOrder } from "../../src/services/refunds/external-refunds.js";
import { allocateExternalRefund } from "../../src/services/refunds/external-refunds.js";

const orders = (...refundable: bigint[]): RefundableOrder[] =>
  refundable.map((r, i) => ({ paymentOrderId: `po_${i + 1}`, refundable: r }));

const split = (amount: bigint, ...refundable: bigint[]) => {
  const { shares, unallocated } = allocateExternalRefund(orders(...refundable), amount, "USD");
  return { shares: shares.map((s) => [s.paymentOrderId, s.amount]), unallocated };
};

describe("allocateExternalRefund", () => {
  it.each([
    [
      "the whole payment over two sellers",
      12_345n,
      [10_000n, 2_345n],
      [
        ["po_1", 10_000n],
        ["po_2", 2_345n],
      ],
      0n,
    ],
    [
      "part of it, in proportion",
      1_000n,
      [10_000n, 2_345n],
      [
        ["po_1", 810n],
        ["po_2", 190n],
      ],
      0n,
    ],
    ["one unit, to the largest remainder", 1n, [10_000n, 2_345n], [["po_1", 1n]], 0n],
    ["a tie, to the earlier order", 1n, [50n, 50n], [["po_1", 1n]], 0n],
    ["what is left after earlier refunds", 2_345n, [0n, 2_345n], [["po_2", 2_345n]], 0n],
    [
      "more than is left: what fits, the rest unallocated",
      5_000n,
      [1_000n, 2_345n],
      [
        ["po_1", 1_000n],
        ["po_2", 2_345n],
      ],
      1_655n,
    ],
    ["nothing left at all", 100n, [0n, 0n], [], 100n],
    ["an order that owes back (negative) counts as nothing", 10n, [-5n, 20n], [["po_2", 10n]], 0n],
  ] as const)("splits %s", (_title, amount, refundable, shares, unallocated) => {
    expect(split(amount, ...refundable)).toEqual({ shares, unallocated });
  });

  it("never gives an order more than it can give back, and loses nothing", () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { minLength: 1, maxLength: 6 }),
        fc.bigInt({ min: 1n, max: 10n ** 13n }),
        (refundable, amount) => {
          const input = orders(...refundable);
          const { shares, unallocated } = allocateExternalRefund(input, amount, "USD");
          const booked = shares.reduce((sum, s) => sum + s.amount, 0n);
          expect(booked + unallocated).toBe(amount);
          const left = refundable.reduce((sum, r) => sum + r, 0n);
          expect(unallocated).toBe(amount > left ? amount - left : 0n);
          for (const share of shares) {
            const order = input.find((o) => o.paymentOrderId === share.paymentOrderId)!;
            expect(share.amount > 0n && share.amount <= order.refundable).toBe(true);
          }
          // Deterministic: the same input, the same split.
          expect(allocateExternalRefund(input, amount, "USD")).toEqual({ shares, unallocated });
        },
      ),
      { numRuns: 200 },
    );
  });
});
