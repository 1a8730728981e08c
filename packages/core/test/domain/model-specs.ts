/**
 * The hand-written tables of `spec-tables.ts` as {@link ModelSpec}s (what the model expects), and
 * the real machines adapted to {@link RealMachine} (what runs).
 */
import {
  applyToPaymentOrder,
  DISPUTE_STATUSES,
  type DisputeAction,
  type DisputeStatus,
  disputeMachine,
  type OrderAction,
  PAYMENT_STATUSES,
  type PaymentAction,
  type PaymentOrderReportedStatus,
  type PaymentOrderState,
  type PaymentStatus,
  paymentMachine,
  transitionPaymentOrder,
} from "../../src/domain/index.js";
import type { ModelSpec, RealMachine, SpecReport } from "./model-harness.js";
import {
  DISPUTE_RANK,
  DISPUTE_TRIPLES,
  ORDER_RANK,
  ORDER_REPORTS,
  ORDER_TRIPLES,
  PAYMENT_DECISIONS,
  PAYMENT_RANK,
  PAYMENT_TRIPLES,
  pairsOf,
  REFUND_RANK,
  REFUND_TRIPLES,
  REFUNDABLE,
  targetOf,
} from "./spec-tables.js";

/** The pairs a PSP report may move along: every rule but the decisions'. */
const PAYMENT_REPORT_PAIRS = pairsOf(PAYMENT_TRIPLES.filter(([, a]) => !PAYMENT_DECISIONS.includes(a)));

/** The apply rule, restated: same, then stale (lower rank), then the table decides. */
function reportRule<S extends string>(
  rank: Record<S, number>,
  legal: boolean,
  from: S,
  to: S,
): SpecReport<S> {
  if (from === to) return { state: from, reason: "same" };
  if (rank[to] < rank[from]) return { state: from, reason: "stale" };
  return legal ? { state: to } : undefined;
}

export const paymentSpec: ModelSpec<PaymentStatus, PaymentAction, PaymentStatus> = {
  initial: "created",
  actions: [...new Set(PAYMENT_TRIPLES.map(([, action]) => action))],
  reports: PAYMENT_STATUSES,
  key: (s) => s,
  act: (s, action) => targetOf(PAYMENT_TRIPLES, s, action),
  report: (s, p) => reportRule(PAYMENT_RANK, PAYMENT_REPORT_PAIRS.has(`${s}>${p}`), s, p),
  ranks: (s) => [PAYMENT_RANK[s]],
};

export const realPayment: RealMachine<PaymentStatus, PaymentAction, PaymentStatus> = paymentMachine;

export const disputeSpec: ModelSpec<DisputeStatus, DisputeAction, DisputeStatus> = {
  initial: "inquiry",
  actions: [...new Set(DISPUTE_TRIPLES.map(([, action]) => action))],
  reports: DISPUTE_STATUSES,
  key: (s) => s,
  act: (s, action) => targetOf(DISPUTE_TRIPLES, s, action),
  report: (s, p) => reportRule(DISPUTE_RANK, pairsOf(DISPUTE_TRIPLES).has(`${s}>${p}`), s, p),
  ranks: (s) => [DISPUTE_RANK[s]],
};

export const realDispute: RealMachine<DisputeStatus, DisputeAction, DisputeStatus> = disputeMachine;

/** A whole-order action: one dimension moves, under the cross-dimension guards. */
function orderAct(state: PaymentOrderState, action: OrderAction): PaymentOrderState | undefined {
  const refundTo = targetOf(REFUND_TRIPLES, state.refundStatus, action);
  if (refundTo !== undefined) {
    return REFUNDABLE.includes(state.status) ? { ...state, refundStatus: refundTo } : undefined;
  }
  const to = targetOf(ORDER_TRIPLES, state.status, action);
  if (to === undefined) return undefined;
  if (state.refundStatus === "refunded" && (to === "fulfilled" || to === "paid_out")) return undefined;
  return { ...state, status: to };
}

function orderReport(state: PaymentOrderState, p: PaymentOrderReportedStatus): SpecReport<PaymentOrderState> {
  if (p === "partially_refunded" || p === "refunded") {
    const legal =
      pairsOf(REFUND_TRIPLES).has(`${state.refundStatus}>${p}`) && REFUNDABLE.includes(state.status);
    const r = reportRule(REFUND_RANK, legal, state.refundStatus, p);
    return r && { state: { ...state, refundStatus: r.state }, ...(r.reason && { reason: r.reason }) };
  }
  const guarded = state.refundStatus === "refunded" && (p === "fulfilled" || p === "paid_out");
  const legal = pairsOf(ORDER_TRIPLES).has(`${state.status}>${p}`) && !guarded;
  const r = reportRule(ORDER_RANK, legal, state.status, p);
  return r && { state: { ...state, status: r.state }, ...(r.reason && { reason: r.reason }) };
}

export const orderSpec: ModelSpec<PaymentOrderState, OrderAction, PaymentOrderReportedStatus> = {
  initial: { status: "pending", refundStatus: "none" },
  actions: [...new Set([...ORDER_TRIPLES, ...REFUND_TRIPLES].map(([, action]) => action))],
  reports: ORDER_REPORTS,
  key: (s) => `${s.status}/${s.refundStatus}`,
  act: orderAct,
  report: orderReport,
  ranks: (s) => [ORDER_RANK[s.status], REFUND_RANK[s.refundStatus]],
};

export const realOrder: RealMachine<PaymentOrderState, OrderAction, PaymentOrderReportedStatus> = {
  transition: transitionPaymentOrder,
  apply: applyToPaymentOrder,
};
