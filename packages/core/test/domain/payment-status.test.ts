import { describe, expect, it } from "vitest";
import {
  PAYMENT_STATUSES,
  type PaymentAction,
  type PaymentStatus,
  paymentMachine,
} from "../../src/domain/index.js";
import { isSettlekitError } from "../../src/errors.js";
import { checkShuffledDelivery, orderlessSequences } from "./delivery-order.js";
import { reachable, thrownBy } from "./model-harness.js";
import { paymentSpec, realPayment } from "./model-specs.js";
import { PAYMENT_RANK, PAYMENT_TRIPLES, pairsOf, targetOf } from "./spec-tables.js";

const PAIRS = pairsOf(PAYMENT_TRIPLES);
const ALL_PAIRS = PAYMENT_STATUSES.flatMap((from) => PAYMENT_STATUSES.map((to) => [from, to] as const));
const ACTIONS = [...new Set(PAYMENT_TRIPLES.map(([, action]) => action))];

describe("paymentMachine table", () => {
  it("has exactly the specified states, ranks and actions", () => {
    expect(paymentMachine.states).toEqual(Object.keys(PAYMENT_RANK));
    expect(paymentMachine.states.map((s) => paymentMachine.rank(s))).toEqual(Object.values(PAYMENT_RANK));
    expect([...paymentMachine.actions].sort()).toEqual([...ACTIONS].sort());
  });

  it.each(ALL_PAIRS)("%s → %s follows the spec", (from, to) => {
    const allowed = PAIRS.has(`${from}>${to}`);
    expect(paymentMachine.canTransition(from, to)).toBe(allowed);
    const error = thrownBy(() => paymentMachine.assertTransition(from, to));
    if (allowed) return expect(error).toBeUndefined();
    expect(isSettlekitError(error, "INVALID_STATE_TRANSITION")).toBe(true);
    expect((error as { details?: unknown }).details).toEqual({ machine: "payment", from, to });
  });

  it.each(ACTIONS)("action %s fires exactly where the spec says", (action: PaymentAction) => {
    for (const from of PAYMENT_STATUSES) {
      const to = targetOf(PAYMENT_TRIPLES, from, action);
      expect(paymentMachine.can(from, action)).toBe(to !== undefined);
      if (to !== undefined) expect(paymentMachine.transition(from, action)).toBe(to);
      else
        expect(thrownBy(() => paymentMachine.transition(from, action))).toMatchObject({
          code: "INVALID_STATE_TRANSITION",
        });
    }
  });

  it("is terminal only when canceled or expired (a refund can still bounce back); every state is reachable", () => {
    expect(PAYMENT_STATUSES.filter((s) => paymentMachine.isTerminal(s))).toEqual(["canceled", "expired"]);
    expect([...reachable(paymentSpec).keys()].sort()).toEqual([...PAYMENT_STATUSES].sort());
  });
});

describe("paymentMachine.apply (PSP reports)", () => {
  const cases: [PaymentStatus, PaymentStatus, PaymentStatus | "throws", ("same" | "stale")?][] = [
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
      const error = thrownBy(() => paymentMachine.apply(current, proposed));
      return expect(error).toMatchObject({
        code: "INVALID_STATE_TRANSITION",
        details: { from: current, to: proposed },
      });
    }
    const result = paymentMachine.apply(current, proposed);
    expect(result).toEqual(
      reason ? { state: expected, changed: false, reason } : { state: expected, changed: true },
    );
  });

  it("retries only by explicit action, then accepts the new attempt's outcomes", () => {
    let state: PaymentStatus = paymentMachine.apply("requires_payment", "failed").state;
    expect(paymentMachine.apply(state, "requires_payment").changed).toBe(false);
    state = paymentMachine.transition(state, "retry");
    expect(state).toBe("requires_payment");
    state = paymentMachine.apply(state, "processing").state;
    expect(paymentMachine.apply(state, "succeeded").state).toBe("succeeded");
  });

  it("leaves a review only by an operator's decision, never by a PSP report", () => {
    const held: PaymentStatus = paymentMachine.apply("processing", "requires_review").state;
    expect(held).toBe("requires_review");
    for (const report of PAYMENT_STATUSES) {
      const error = thrownBy(() => paymentMachine.apply(held, report));
      const state = error === undefined ? paymentMachine.apply(held, report).state : held;
      expect(state).toBe("requires_review");
    }
    expect(paymentMachine.transition(held, "approve")).toBe("succeeded");
    expect(paymentMachine.transition(held, "reject")).toBe("canceled");
    expect(thrownBy(() => paymentMachine.transition("succeeded", "approve"))).toMatchObject({
      code: "INVALID_STATE_TRANSITION",
    });
    expect(thrownBy(() => paymentMachine.transition("processing", "reject"))).toMatchObject({
      code: "INVALID_STATE_TRANSITION",
    });
  });

  it("ends in the same state whatever order and duplication the reports arrive in", () => {
    const sequences = orderlessSequences(paymentSpec, PAYMENT_STATUSES);
    const listed = sequences.map((s) => `${s.start}: ${s.reports.join(",")}`);
    expect(listed).toEqual(
      expect.arrayContaining(["requires_payment: processing,succeeded", "processing: failed,succeeded"]),
    );
    expect(listed).toContain("requires_payment: processing,failed,succeeded");
    expect(listed).toContain("succeeded: partially_refunded,refunded");
    expect(listed).not.toContain("requires_payment: succeeded,refunded"); // refunded first would throw
    expect(listed).not.toContain("created: requires_payment,processing"); // webhook before registration
    checkShuffledDelivery(paymentSpec, realPayment, sequences);
  });
});
