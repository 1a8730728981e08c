import { describe, expect, it } from "vitest";
import {
  applyToPaymentOrder,
  type PaymentOrder,
  type PaymentOrderState,
  refundStatusFor,
  transitionPaymentOrder,
} from "../../src/domain/index.js";
import { checkShuffledDelivery, orderlessSequences } from "./delivery-order.js";
import { reachable, thrownBy as thrown } from "./model-harness.js";
import { orderSpec, realOrder } from "./model-specs.js";

const state = (
  status: PaymentOrderState["status"],
  refundStatus: PaymentOrderState["refundStatus"] = "none",
) => ({
  status,
  refundStatus,
});

describe("transitionPaymentOrder", () => {
  it("keeps the lifecycle when refunding and the rest of the order untouched", () => {
    const order = { id: "po_1", amount: 500n, ...state("paid_out") } as PaymentOrder;
    const refunded = transitionPaymentOrder(transitionPaymentOrder(order, "refund_partially"), "refund");
    expect(refunded).toEqual({ ...order, status: "paid_out", refundStatus: "refunded" });
    expect(order.refundStatus).toBe("none");
  });

  it("fulfils and pays out after a partial refund, not after a full one", () => {
    const partial = transitionPaymentOrder(state("succeeded"), "refund_partially");
    expect(transitionPaymentOrder(transitionPaymentOrder(partial, "fulfill"), "pay_out")).toEqual(
      state("paid_out", "partially_refunded"),
    );
    const full = transitionPaymentOrder(state("succeeded"), "refund");
    expect(thrown(() => transitionPaymentOrder(full, "fulfill"))).toMatchObject({
      code: "INVALID_STATE_TRANSITION",
      details: {
        machine: "payment_order",
        from: "succeeded",
        to: "fulfilled",
        action: "fulfill",
        refundStatus: "refunded",
      },
    });
  });

  it("refuses refunds before money was captured, and retries a failed order", () => {
    for (const status of ["pending", "failed"] as const) {
      expect(thrown(() => transitionPaymentOrder(state(status), "refund"))).toMatchObject({
        details: {
          machine: "payment_order",
          from: status,
          to: "refunded",
          action: "refund",
          refundStatus: "none",
        },
      });
    }
    expect(transitionPaymentOrder(state("failed"), "retry")).toEqual(state("pending"));
    expect(thrown(() => transitionPaymentOrder(state("succeeded"), "pay_out"))).toMatchObject({
      details: { machine: "payment_order", from: "succeeded", to: "paid_out", action: "pay_out" },
    });
  });
});

describe("applyToPaymentOrder", () => {
  it("routes reports to their dimension and ignores same and stale ones", () => {
    expect(applyToPaymentOrder(state("pending"), "succeeded")).toEqual({
      state: state("succeeded"),
      changed: true,
    });
    expect(applyToPaymentOrder(state("fulfilled"), "refunded")).toEqual({
      state: state("fulfilled", "refunded"),
      changed: true,
    });
    expect(applyToPaymentOrder(state("paid_out"), "succeeded")).toEqual({
      state: state("paid_out"),
      changed: false,
      reason: "stale",
    });
    expect(applyToPaymentOrder(state("failed"), "pending")).toEqual({
      state: state("failed"),
      changed: false,
      reason: "stale",
    });
    const partial = state("succeeded", "partially_refunded");
    expect(applyToPaymentOrder(partial, "partially_refunded")).toEqual({
      state: partial,
      changed: false,
      reason: "same",
    });
    const full = state("succeeded", "refunded");
    expect(applyToPaymentOrder(full, "partially_refunded")).toEqual({
      state: full,
      changed: false,
      reason: "stale",
    });
  });

  it("throws on reports that are not behind but illegal", () => {
    expect(thrown(() => applyToPaymentOrder(state("pending"), "refunded"))).toMatchObject({
      details: { machine: "payment_order", from: "pending", to: "refunded", refundStatus: "none" },
    });
    expect(thrown(() => applyToPaymentOrder(state("succeeded"), "paid_out"))).toMatchObject({
      details: { machine: "payment_order", from: "succeeded", to: "paid_out" },
    });
    expect(thrown(() => applyToPaymentOrder(state("fulfilled", "refunded"), "paid_out"))).toMatchObject({
      details: { from: "fulfilled", to: "paid_out", refundStatus: "refunded" },
    });
  });

  it("ends in the same state whatever order and duplication the reports arrive in", () => {
    const sequences = orderlessSequences(orderSpec, [...reachable(orderSpec).values()]);
    const listed = sequences.map((s) => `${orderSpec.key(s.start)}: ${s.reports.join(",")}`);
    expect(listed).toContain("pending/none: failed,succeeded");
    expect(listed).toContain("fulfilled/none: partially_refunded,paid_out");
    expect(listed).not.toContain("succeeded/none: fulfilled,paid_out"); // payout first would throw
    checkShuffledDelivery(orderSpec, realOrder, sequences);
  });
});

describe("refundStatusFor", () => {
  it("maps amounts to a refund status and rejects impossible ones", () => {
    expect([0n, 1n, 99n, 100n].map((r) => refundStatusFor(100n, r))).toEqual([
      "none",
      "partially_refunded",
      "partially_refunded",
      "refunded",
    ]);
    for (const [amount, refunded] of [
      [100n, 101n],
      [100n, -1n],
      [0n, 0n],
    ] as const) {
      expect(thrown(() => refundStatusFor(amount, refunded))).toMatchObject({
        code: "INVALID_AMOUNT",
        param: "refundedAmount",
      });
    }
  });
});
