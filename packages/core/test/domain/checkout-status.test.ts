import { describe, expect, it } from "vitest";
import {
  CHECKOUT_STATUSES,
  type CheckoutAction,
  type CheckoutStatus,
  checkoutMachine,
} from "../../src/domain/index.js";
import { isSettlekitError } from "../../src/errors.js";
import { checkShuffledDelivery, orderlessSequences } from "./delivery-order.js";
import { reachable, thrownBy } from "./model-harness.js";
import { checkoutSpec, realCheckout } from "./model-specs.js";
import { CHECKOUT_RANK, CHECKOUT_TRIPLES, pairsOf, targetOf } from "./spec-tables.js";

const PAIRS = pairsOf(CHECKOUT_TRIPLES);
const ALL_PAIRS = CHECKOUT_STATUSES.flatMap((from) => CHECKOUT_STATUSES.map((to) => [from, to] as const));
const ACTIONS = [...new Set(CHECKOUT_TRIPLES.map(([, action]) => action))];

describe("checkoutMachine table", () => {
  it("has exactly the specified states, ranks and actions", () => {
    expect(checkoutMachine.states).toEqual(Object.keys(CHECKOUT_RANK));
    expect(checkoutMachine.states.map((s) => checkoutMachine.rank(s))).toEqual(Object.values(CHECKOUT_RANK));
    expect([...checkoutMachine.actions].sort()).toEqual([...ACTIONS].sort());
  });

  it.each(ALL_PAIRS)("%s → %s follows the spec", (from, to) => {
    const allowed = PAIRS.has(`${from}>${to}`);
    expect(checkoutMachine.canTransition(from, to)).toBe(allowed);
    const error = thrownBy(() => checkoutMachine.assertTransition(from, to));
    if (allowed) return expect(error).toBeUndefined();
    expect(isSettlekitError(error, "INVALID_STATE_TRANSITION")).toBe(true);
    expect((error as { details?: unknown }).details).toEqual({ machine: "checkout", from, to });
  });

  it.each(ACTIONS)("action %s fires exactly where the spec says", (action: CheckoutAction) => {
    for (const from of CHECKOUT_STATUSES) {
      const to = targetOf(CHECKOUT_TRIPLES, from, action);
      expect(checkoutMachine.can(from, action)).toBe(to !== undefined);
      if (to !== undefined) expect(checkoutMachine.transition(from, action)).toBe(to);
      else
        expect(thrownBy(() => checkoutMachine.transition(from, action))).toMatchObject({
          code: "INVALID_STATE_TRANSITION",
        });
    }
  });

  it("is terminal only when canceled or expired (a refund can still bounce back); every state is reachable", () => {
    expect(CHECKOUT_STATUSES.filter((s) => checkoutMachine.isTerminal(s))).toEqual(["canceled", "expired"]);
    expect([...reachable(checkoutSpec).keys()].sort()).toEqual([...CHECKOUT_STATUSES].sort());
  });
});

describe("checkoutMachine.apply (PSP reports)", () => {
  const cases: [CheckoutStatus, CheckoutStatus, CheckoutStatus | "throws", ("same" | "stale")?][] = [
    ["requires_payment", "processing", "processing"],
    ["requires_payment", "succeeded", "succeeded"],
    ["processing", "succeeded", "succeeded"],
    ["failed", "succeeded", "succeeded"],
    ["failed", "expired", "expired"],
    ["succeeded", "refunded", "refunded"],
    ["succeeded", "processing", "succeeded", "stale"],
    ["succeeded", "failed", "succeeded", "stale"],
    ["succeeded", "canceled", "succeeded", "stale"],
    ["failed", "processing", "processing"],
    ["processing", "failed", "failed"],
    ["failed", "requires_payment", "failed", "stale"],
    ["expired", "failed", "expired", "stale"],
    ["refunded", "partially_refunded", "refunded", "stale"],
    ["partially_refunded", "partially_refunded", "partially_refunded", "same"],
    ["canceled", "succeeded", "throws"],
    ["expired", "succeeded", "throws"],
    ["canceled", "expired", "throws"],
    ["created", "processing", "throws"],
    ["requires_payment", "partially_refunded", "throws"],
    // A report with another amount or currency proposes requires_review (see applyPaymentStatus).
    ["requires_payment", "requires_review", "requires_review"],
    ["processing", "requires_review", "requires_review"],
    ["failed", "requires_review", "requires_review"],
    ["requires_review", "processing", "requires_review", "stale"],
    ["requires_review", "failed", "requires_review", "stale"],
    ["requires_review", "canceled", "requires_review", "stale"],
    ["requires_review", "expired", "requires_review", "stale"],
    ["requires_review", "requires_review", "requires_review", "same"],
    ["requires_review", "succeeded", "throws"],
    ["requires_review", "refunded", "throws"],
    ["succeeded", "requires_review", "throws"],
    ["canceled", "requires_review", "throws"],
    ["expired", "requires_review", "throws"],
    ["created", "requires_review", "throws"],
  ];
  it.each(cases)("%s + reported %s → %s", (current, proposed, expected, reason) => {
    if (expected === "throws") {
      const error = thrownBy(() => checkoutMachine.apply(current, proposed));
      return expect(error).toMatchObject({
        code: "INVALID_STATE_TRANSITION",
        details: { from: current, to: proposed },
      });
    }
    const result = checkoutMachine.apply(current, proposed);
    expect(result).toEqual(
      reason ? { state: expected, changed: false, reason } : { state: expected, changed: true },
    );
  });

  it("retries only by explicit action, then accepts the new attempt's outcomes", () => {
    let state: CheckoutStatus = checkoutMachine.apply("requires_payment", "failed").state;
    expect(checkoutMachine.apply(state, "requires_payment").changed).toBe(false);
    state = checkoutMachine.transition(state, "retry");
    expect(state).toBe("requires_payment");
    state = checkoutMachine.apply(state, "processing").state;
    expect(checkoutMachine.apply(state, "succeeded").state).toBe("succeeded");
  });

  it("leaves a review only by an operator's decision, never by a PSP report", () => {
    const held: CheckoutStatus = checkoutMachine.apply("processing", "requires_review").state;
    expect(held).toBe("requires_review");
    for (const report of CHECKOUT_STATUSES) {
      const error = thrownBy(() => checkoutMachine.apply(held, report));
      const state = error === undefined ? checkoutMachine.apply(held, report).state : held;
      expect(state).toBe("requires_review");
    }
    expect(checkoutMachine.transition(held, "approve")).toBe("succeeded");
    expect(checkoutMachine.transition(held, "reject")).toBe("canceled");
    expect(thrownBy(() => checkoutMachine.transition("succeeded", "approve"))).toMatchObject({
      code: "INVALID_STATE_TRANSITION",
    });
    expect(thrownBy(() => checkoutMachine.transition("processing", "reject"))).toMatchObject({
      code: "INVALID_STATE_TRANSITION",
    });
  });

  it("ends in the same state whatever order and duplication the reports arrive in", () => {
    const sequences = orderlessSequences(checkoutSpec, CHECKOUT_STATUSES);
    const listed = sequences.map((s) => `${s.start}: ${s.reports.join(",")}`);
    expect(listed).toEqual(
      expect.arrayContaining(["requires_payment: processing,succeeded", "processing: failed,succeeded"]),
    );
    expect(listed).toContain("requires_payment: processing,failed,succeeded");
    expect(listed).toContain("succeeded: partially_refunded,refunded");
    expect(listed).not.toContain("requires_payment: succeeded,refunded"); // refunded first would throw
    expect(listed).not.toContain("created: requires_payment,processing"); // webhook before registration
    checkShuffledDelivery(checkoutSpec, realCheckout, sequences);
  });
});
