import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocateDispute, DISPUTE_STATUSES, disputeMachine } from "../../src/domain/index.js";
import { isSettlekitError } from "../../src/errors.js";

const order = (id: string, sellerId: string, amount: bigint, refundedAmount = 0n) => ({
  id,
  sellerId,
  amount,
  refundedAmount,
  currency: "USD",
});

describe("disputeMachine", () => {
  it("moves a chargeback forward to one outcome and treats late reports as stale", () => {
    expect(disputeMachine.apply("needs_response", "under_review")).toMatchObject({ changed: true });
    expect(disputeMachine.apply("under_review", "won")).toMatchObject({ changed: true, state: "won" });
    expect(disputeMachine.apply("under_review", "needs_response")).toMatchObject({
      changed: false,
      reason: "stale",
    });
    expect(disputeMachine.apply("lost", "needs_response")).toMatchObject({ changed: false, reason: "stale" });
    expect(disputeMachine.apply("inquiry", "needs_response")).toMatchObject({ changed: true });
    expect(disputeMachine.apply("inquiry", "warning_closed")).toMatchObject({ changed: true });
  });

  it.each([
    ["won", "lost"],
    ["lost", "won"],
    ["warning_closed", "won"],
    ["inquiry", "lost"],
  ] as const)("refuses %s → %s (a discrepancy, not a late message)", (from, to) => {
    let thrown: unknown;
    try {
      disputeMachine.apply(from, to);
    } catch (error) {
      thrown = error;
    }
    expect(isSettlekitError(thrown, "INVALID_STATE_TRANSITION")).toBe(true);
  });

  it("has won, lost and warning_closed as its only terminal states", () => {
    expect(DISPUTE_STATUSES.filter((s) => disputeMachine.isTerminal(s))).toEqual([
      "won",
      "lost",
      "warning_closed",
    ]);
  });
});

describe("allocateDispute", () => {
  it("splits pro rata of what each order still holds, largest remainder, ties to the earlier order", () => {
    const split = allocateDispute(
      [order("a", "S1", 100n), order("b", "S2", 100n), order("c", "S3", 100n)],
      100n,
      1_500n,
    );
    expect(split.map((a) => [a.amount, a.fee])).toEqual([
      [34n, 500n],
      [33n, 500n],
      [33n, 500n],
    ]);
    // A refunded order holds less, so it takes less of the dispute; a fully refunded one nothing.
    expect(
      allocateDispute([order("a", "S1", 10_000n, 10_000n), order("b", "S2", 2_345n)], 2_345n, 15n).map(
        (a) => [a.amount, a.fee],
      ),
    ).toEqual([
      [0n, 0n],
      [2_345n, 15n],
    ]);
    // Everything refunded: the order amounts weigh instead.
    expect(
      allocateDispute([order("a", "S1", 300n, 300n), order("b", "S2", 100n, 100n)], 40n, 0n).map(
        (a) => a.amount,
      ),
    ).toEqual([30n, 10n]);
  });

  it("always adds up to the disputed amount and fee, each part within one unit of its share", () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 1n, max: 10n ** 12n }), { minLength: 1, maxLength: 6 }),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.bigInt({ min: 0n, max: 10n ** 6n }),
        (amounts, amount, fee) => {
          const orders = amounts.map((a, i) => order(`o${i}`, `S${i}`, a));
          const split = allocateDispute(orders, amount, fee);
          expect(split.reduce((s, a) => s + a.amount, 0n)).toBe(amount);
          expect(split.reduce((s, a) => s + a.fee, 0n)).toBe(fee);
          const total = amounts.reduce((s, a) => s + a, 0n);
          split.forEach((a, i) => {
            const exact = amount * amounts[i]!;
            expect(a.amount * total - exact <= total && exact - a.amount * total <= total).toBe(true);
          });
        },
      ),
    );
  });
});
