import { describe, expect, it } from "vitest";
import {
  ORDER_REFUND_STATUSES,
  orderRefundMachine,
  PAYMENT_ORDER_STATUSES,
  paymentOrderMachine,
  REFUNDABLE_ORDER_STATUSES,
} from "../../src/domain/index.js";
import { reachable, thrownBy as thrown } from "./model-harness.js";
import { orderSpec } from "./model-specs.js";
import {
  ORDER_RANK,
  ORDER_TRIPLES,
  pairsOf,
  REFUND_RANK,
  REFUND_TRIPLES,
  REFUNDABLE,
} from "./spec-tables.js";

/** Every (from, to) pair over `states`. */
const square = <S extends string>(states: readonly S[]) =>
  states.flatMap((f) => states.map((t) => [f, t] as const));

describe("paymentOrderMachine and orderRefundMachine tables", () => {
  it("have exactly the specified states and ranks", () => {
    expect(paymentOrderMachine.states).toEqual(Object.keys(ORDER_RANK));
    expect(paymentOrderMachine.states.map((s) => paymentOrderMachine.rank(s))).toEqual(
      Object.values(ORDER_RANK),
    );
    expect(orderRefundMachine.states).toEqual(Object.keys(REFUND_RANK));
    expect(orderRefundMachine.states.map((s) => orderRefundMachine.rank(s))).toEqual(
      Object.values(REFUND_RANK),
    );
    expect(REFUNDABLE_ORDER_STATUSES).toEqual(REFUNDABLE);
  });

  it.each(square(PAYMENT_ORDER_STATUSES))("lifecycle %s → %s follows the spec", (from, to) => {
    const allowed = pairsOf(ORDER_TRIPLES).has(`${from}>${to}`);
    expect(paymentOrderMachine.canTransition(from, to)).toBe(allowed);
    const error = thrown(() => paymentOrderMachine.assertTransition(from, to));
    if (allowed) return expect(error).toBeUndefined();
    expect(error).toMatchObject({ code: "INVALID_STATE_TRANSITION" });
    expect((error as { details?: unknown }).details).toEqual({ machine: "payment_order", from, to });
  });

  it.each(square(ORDER_REFUND_STATUSES))("refund %s → %s follows the spec", (from, to) => {
    const allowed = pairsOf(REFUND_TRIPLES).has(`${from}>${to}`);
    expect(orderRefundMachine.canTransition(from, to)).toBe(allowed);
    const error = thrown(() => orderRefundMachine.assertTransition(from, to));
    if (allowed) return expect(error).toBeUndefined();
    expect((error as { details?: unknown }).details).toEqual({ machine: "order_refund", from, to });
  });

  it("is terminal only when paid out / fully refunded; 11 whole-order states are reachable", () => {
    expect(PAYMENT_ORDER_STATUSES.filter((s) => paymentOrderMachine.isTerminal(s))).toEqual(["paid_out"]);
    expect(ORDER_REFUND_STATUSES.filter((s) => orderRefundMachine.isTerminal(s))).toEqual(["refunded"]);
    expect(reachable(orderSpec).size).toBe(11);
  });
});
