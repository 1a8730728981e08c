import { describe, expect, it } from "vitest";
import {
  applyToPaymentOrder,
  type CheckoutStatus,
  checkoutMachine,
  type PaymentOrderReportedStatus,
  type PaymentOrderState,
  paymentOrderMachine,
} from "../../src/domain/index.js";
import { reachable, runModel } from "./model-harness.js";
import { checkoutSpec, disputeSpec, orderSpec, realCheckout, realDispute, realOrder } from "./model-specs.js";

/** fast-check's report of a falsified property (not, say, a ReferenceError in the mutant). */
const FAILED = /Property failed after \d+ tests/;

describe("model-based (fc.commands): random transitions and PSP reports", () => {
  it("checkout: matches the model, never moves back under apply, terminal stays terminal", () => {
    const reached = runModel(checkoutSpec, realCheckout);
    expect([...reached].sort()).toEqual([...reachable(checkoutSpec).keys()].sort());
  });

  it("dispute: matches the model, never moves back under apply, an outcome stays final", () => {
    const reached = runModel(disputeSpec, realDispute);
    expect([...reached].sort()).toEqual([...reachable(disputeSpec).keys()].sort());
  });

  it("payment order: both dimensions, with the cross-dimension guards", () => {
    const reached = runModel(orderSpec, realOrder);
    expect([...reached].sort()).toEqual([...reachable(orderSpec).keys()].sort());
  });

  it("fails for an apply that performs a retry or rejects a late report", () => {
    const rewinding = {
      transition: realCheckout.transition,
      apply: (c: CheckoutStatus, p: CheckoutStatus) =>
        c === "failed" && p === "requires_payment"
          ? { state: p, changed: true as const }
          : checkoutMachine.apply(c, p),
    };
    expect(() => runModel(checkoutSpec, rewinding, 1000)).toThrow(FAILED);
    const strict = {
      transition: realCheckout.transition,
      apply: (c: CheckoutStatus, p: CheckoutStatus) => {
        if (c !== p) checkoutMachine.assertTransition(c, p);
        return checkoutMachine.apply(c, p);
      },
    };
    expect(() => runModel(checkoutSpec, strict, 1000)).toThrow(FAILED);
  });

  it("fails for an apply that lets a late success lift a review", () => {
    const lifting = {
      transition: realCheckout.transition,
      apply: (c: CheckoutStatus, p: CheckoutStatus) =>
        c === "requires_review" && p === "succeeded"
          ? { state: p, changed: true as const }
          : checkoutMachine.apply(c, p),
    };
    expect(() => runModel(checkoutSpec, lifting, 1000)).toThrow(FAILED);
  });

  it("fails for an order apply that skips the refund guard", () => {
    const unguarded = {
      ...realOrder,
      apply: (o: PaymentOrderState, p: PaymentOrderReportedStatus) =>
        p === "refunded" && !paymentOrderMachine.isTerminal(o.status) && o.refundStatus !== p
          ? { state: { ...o, refundStatus: p }, changed: true as const }
          : applyToPaymentOrder(o, p),
    };
    expect(() => runModel(orderSpec, unguarded, 1000)).toThrow(FAILED);
  });
});
