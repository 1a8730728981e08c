import { describe, expect, it } from "vitest";
import {
  applyToPaymentOrder,
  type PaymentOrderReportedStatus,
  type PaymentOrderState,
  type PaymentStatus,
  paymentMachine,
  paymentOrderMachine,
} from "../../src/domain/index.js";
import { reachable, runModel } from "./model-harness.js";
import { disputeSpec, orderSpec, paymentSpec, realDispute, realOrder, realPayment } from "./model-specs.js";

/** fast-check's report of a falsified property (not, say, a ReferenceError in the mutant). */
const FAILED = /Property failed after \d+ tests/;

describe("model-based (fc.commands): random transitions and PSP reports", () => {
  it("payment: matches the model, never moves back under apply, terminal stays terminal", () => {
    const reached = runModel(paymentSpec, realPayment);
    expect([...reached].sort()).toEqual([...reachable(paymentSpec).keys()].sort());
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
      transition: realPayment.transition,
      apply: (c: PaymentStatus, p: PaymentStatus) =>
        c === "failed" && p === "requires_payment"
          ? { state: p, changed: true as const }
          : paymentMachine.apply(c, p),
    };
    expect(() => runModel(paymentSpec, rewinding, 1000)).toThrow(FAILED);
    const strict = {
      transition: realPayment.transition,
      apply: (c: PaymentStatus, p: PaymentStatus) => {
        if (c !== p) paymentMachine.assertTransition(c, p);
        return paymentMachine.apply(c, p);
      },
    };
    expect(() => runModel(paymentSpec, strict, 1000)).toThrow(FAILED);
  });

  it("fails for an apply that lets a late success lift a review", () => {
    const lifting = {
      transition: realPayment.transition,
      apply: (c: PaymentStatus, p: PaymentStatus) =>
        c === "requires_review" && p === "succeeded"
          ? { state: p, changed: true as const }
          : paymentMachine.apply(c, p),
    };
    expect(() => runModel(paymentSpec, lifting, 1000)).toThrow(FAILED);
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
