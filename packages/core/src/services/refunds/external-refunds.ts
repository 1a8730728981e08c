import type { Deps } from "../../deps.js";
import type { Payment } from "../../domain/payment.js";
import type { PaymentOrder } from "../../domain/payment-order.js";
import { isRefundableOrderStatus } from "../../domain/payment-order-status.js";
import type { PaymentStatus } from "../../domain/payment-status.js";
import type { Refund } from "../../domain/refund.js";
import { allocate } from "../../money/allocate.js";
import { money } from "../../money/money.js";
import { appendOutboxEvents } from "../../outbox/outbox.js";
import type { JsonObject } from "../../ports/json.js";
import type { PspEvent, RefundResult } from "../../ports/psp.js";
import type { StoreTx } from "../../ports/store.js";
import { refundView } from "../../views/refund.js";
import { EVENT_SCHEMA_VERSION } from "../../views/schema-version.js";
import { completeCaptureRefund } from "../payments/attempts.js";
import { completeRefund } from "./refunds.js";

/** A PSP's report on a refund. */
export type PspRefundEvent = Extract<PspEvent, { kind: "refund" }>;

/** What a refund event did: applied (maybe flagged with a discrepancy) or deferred for a retry. */
export interface RefundEventEffect {
  readonly outcome: "applied" | "deferred";
  readonly error?: string;
}

/** The operator's event for a refund made at the PSP, outside settlekit. */
export const EXTERNAL_REFUND_EVENT = "refund.external";
/** The operator's event for an external refund settlekit could not (wholly) book. */
export const EXTERNAL_REFUND_DISCREPANCY_EVENT = "refund.external_discrepancy";

/**
 * Why an external refund was not (wholly) booked:
 * - `exceeds_refundable` — more than what is left to refund of the payment's orders (refunds
 *   pending count): what fits is booked, the rest (`unallocated_amount`) is for an operator;
 * - `currency_mismatch` / `invalid_amount` — the PSP's money is not the payment's: nothing booked;
 * - `payment_not_refundable` — the payment has no captured money in settlekit's books
 *   (`requires_review`, `processing`, `failed`…): nothing booked.
 */
export type ExternalRefundDiscrepancy =
  | "exceeds_refundable"
  | "currency_mismatch"
  | "invalid_amount"
  | "payment_not_refundable";

/** Statuses in which a payment's orders hold captured money settlekit booked. */
const BOOKED: readonly PaymentStatus[] = ["succeeded", "partially_refunded", "refunded"];

/** What one order can still give back: captured, less refunded, less refunds still pending. */
export interface RefundableOrder {
  readonly paymentOrderId: string;
  readonly refundable: bigint;
}

/**
 * Spreads `amount` over the orders in proportion to what each can still give back (largest
 * remainder, ties to the earlier order: the same input always gives the same split), never more
 * than an order's `refundable`. Whatever does not fit is `unallocated` (a discrepancy). Orders
 * that get nothing are left out.
 */
export function allocateExternalRefund(
  orders: readonly RefundableOrder[],
  amount: bigint,
  currency: string,
): { shares: { paymentOrderId: string; amount: bigint }[]; unallocated: bigint } {
  const refundable = orders.map((o) => (o.refundable > 0n ? o.refundable : 0n));
  const left = refundable.reduce((sum, r) => sum + r, 0n);
  const fits = amount < left ? amount : left;
  if (fits <= 0n) return { shares: [], unallocated: amount > 0n ? amount : 0n };
  const parts = allocate(money(fits, currency), refundable);
  return {
    shares: orders
      .map((o, i) => ({ paymentOrderId: o.paymentOrderId, amount: parts[i]!.amount }))
      .filter((s) => s.amount > 0n),
    unallocated: amount - fits,
  };
}

/** The orders' refundable amounts (pending refunds of any origin count as spent). */
function refundableOrders(orders: readonly PaymentOrder[], refunds: readonly Refund[]): RefundableOrder[] {
  return orders.map((order) => {
    if (!isRefundableOrderStatus(order.status)) return { paymentOrderId: order.id, refundable: 0n };
    const pending = refunds
      .filter((r) => r.paymentOrderId === order.id && r.status === "pending")
      .reduce((sum, r) => sum + r.amount, 0n);
    return { paymentOrderId: order.id, refundable: order.amount - order.refundedAmount - pending };
  });
}

const resultOf = (event: PspRefundEvent): RefundResult => ({
  refundReference: event.refundReference,
  status: event.status,
  ...(event.failureReason ? { failureReason: event.failureReason } : {}),
});

/**
 * Raises `refund.external_discrepancy` once per PSP refund and reason (later events of the same
 * refund find it and add nothing), and says what the webhook event is flagged with.
 */
async function discrepancy(
  deps: Deps,
  tx: StoreTx,
  payment: Payment,
  event: PspRefundEvent,
  reason: ExternalRefundDiscrepancy,
  amounts: { booked: bigint; unallocated: bigint },
): Promise<RefundEventEffect> {
  const error = `external refund ${event.refundReference}: ${reason}`;
  const earlier = await tx.outbox.listByAggregate({
    aggregateType: "payment",
    aggregateId: payment.id,
    limit: 1_000,
  });
  const raised = earlier.some(
    (e) =>
      e.type === EXTERNAL_REFUND_DISCREPANCY_EVENT &&
      (e.payload as JsonObject).psp_refund_reference === event.refundReference &&
      (e.payload as JsonObject).reason === reason,
  );
  if (raised) return { outcome: "applied", error };
  await appendOutboxEvents(
    tx,
    [
      {
        type: EXTERNAL_REFUND_DISCREPANCY_EVENT,
        aggregateType: "payment",
        aggregateId: payment.id,
        payload: {
          schema_version: EVENT_SCHEMA_VERSION,
          reason,
          payment_id: payment.id,
          payment_status: payment.status,
          psp: payment.pspId,
          psp_reference: event.pspReference,
          psp_refund_reference: event.refundReference,
          psp_status: event.status,
          // As the PSP reported them; the payment's own money for comparison.
          reported_amount: event.amount.toString(),
          reported_currency: event.currency,
          expected_currency: payment.currency,
          booked_amount: amounts.booked.toString(),
          unallocated_amount: amounts.unallocated.toString(),
        },
      },
    ],
    deps,
  );
  return { outcome: "applied", error };
}

/**
 * A refund the PSP reports that settlekit did not make: one `external` refund per payment order
 * (allocated by {@link allocateExternalRefund}), inserted `pending` and then taken through
 * {@link completeRefund} like a settlekit refund answered by its PSP — the same journal, order
 * and payment refund statuses and `refund.succeeded` / `refund.failed` events — plus one
 * `refund.external` event for the operator.
 */
async function recordExternalRefund(
  deps: Deps,
  tx: StoreTx,
  payment: Payment,
  orders: readonly PaymentOrder[],
  refunds: readonly Refund[],
  event: PspRefundEvent,
): Promise<RefundEventEffect> {
  const nothing = { booked: 0n, unallocated: event.amount };
  if (event.currency !== payment.currency) {
    return discrepancy(deps, tx, payment, event, "currency_mismatch", nothing);
  }
  if (typeof event.amount !== "bigint" || event.amount <= 0n) {
    return discrepancy(deps, tx, payment, event, "invalid_amount", { booked: 0n, unallocated: 0n });
  }
  if (!BOOKED.includes(payment.status)) {
    return discrepancy(deps, tx, payment, event, "payment_not_refundable", nothing);
  }
  const { shares, unallocated } = allocateExternalRefund(
    refundableOrders(orders, refunds),
    event.amount,
    payment.currency,
  );
  if (shares.length === 0) return discrepancy(deps, tx, payment, event, "exceeds_refundable", nothing);
  const now = deps.clock.now();
  // One id per refund, suffixed per order: the rows list in the orders' order (same createdAt).
  const base = `rf_${deps.ids.newId().replaceAll("-", "")}`;
  const inserted: Refund[] = [];
  for (const [i, share] of shares.entries()) {
    const refund: Refund = {
      id: `${base}_${String(i + 1).padStart(3, "0")}`,
      paymentId: payment.id,
      paymentOrderId: share.paymentOrderId,
      amount: share.amount,
      currency: payment.currency,
      status: "pending",
      pspRefundReference: event.refundReference,
      origin: "external",
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    await tx.refunds.insert(refund);
    inserted.push(refund);
  }
  const recorded: Refund[] = [];
  for (const refund of inserted) {
    recorded.push(
      event.status === "pending"
        ? refund
        : ((await completeRefund(deps, tx, refund.id, resultOf(event))) ?? refund),
    );
  }
  const booked = event.amount - unallocated;
  await appendOutboxEvents(
    tx,
    [
      {
        type: EXTERNAL_REFUND_EVENT,
        aggregateType: "payment",
        aggregateId: payment.id,
        payload: {
          schema_version: EVENT_SCHEMA_VERSION,
          payment_id: payment.id,
          psp: payment.pspId,
          psp_reference: event.pspReference,
          psp_refund_reference: event.refundReference,
          status: event.status,
          amount: booked.toString(),
          currency: payment.currency,
          reported_amount: event.amount.toString(),
          unallocated_amount: unallocated.toString(),
          refunds: recorded.map(refundView),
        },
      },
    ],
    deps,
  );
  if (unallocated > 0n) {
    return discrepancy(deps, tx, payment, event, "exceeds_refundable", { booked, unallocated });
  }
  return { outcome: "applied" };
}

const awaitingAnswer = (refund: Refund): RefundEventEffect => ({
  outcome: "deferred",
  error: `refund ${refund.id} awaits its PSP answer; this may be its report`,
});

/**
 * Applies a PSP refund event, in the webhook's transaction:
 * 1. a refund settlekit made, found by its PSP refund reference: {@link completeRefund}; one
 *    reported before its PSP answer was stored (named by the settlekit refund id the PSP kept)
 *    defers the event, as before: the answer completes the refund, the retry finds it done;
 * 2. otherwise the payment is looked up by the PSP's payment reference (scoped to the PSP), its
 *    orders locked (orders before the payment, the order refunds lock in), and
 *    - an external refund already recorded (its rows, by refund reference) moves on with the
 *      event's status: `pending` again changes nothing; `succeeded` / `failed` go through
 *      `completeRefund` row by row (a `failed` after `succeeded` reverses it);
 *    - a settlekit refund of the payment still waiting for its PSP answer (no reference yet)
 *      defers the event: it may be that refund's report, and the retry will tell;
 *    - else the refund is new: recorded as an external refund ({@link recordExternalRefund}).
 * A payment settlekit does not know defers the event as before (`unknown refund`).
 */
export async function applyRefundEvent(
  deps: Deps,
  tx: StoreTx,
  pspId: string,
  event: PspRefundEvent,
): Promise<RefundEventEffect> {
  const result = resultOf(event);
  const known = await tx.refunds.listByPspReference(event.refundReference);
  const own = known.find((r) => r.origin !== "external");
  if (own) {
    await completeRefund(deps, tx, own.id, result);
    return { outcome: "applied" };
  }
  // The automatic refund of a capture no payment order owns (see attempts.ts).
  const captured = await tx.paymentAttempts.findByCaptureRefundReference(pspId, event.refundReference);
  if (captured) {
    await completeCaptureRefund(deps, tx, captured, result);
    return { outcome: "applied" };
  }
  const found = await tx.payments.findByPspReference(pspId, event.pspReference);
  if (!found) return { outcome: "deferred", error: "unknown refund" };
  // A capture no payment order owns (on an old attempt, or on the one an expired payment follows)
  // whose automatic refund is reported before the PSP's answer was stored: that answer completes it.
  const attempt = await tx.paymentAttempts.findByPspReference(pspId, event.pspReference);
  if (attempt?.captureRefundStatus === "pending" && !attempt.captureRefundReference) {
    return { outcome: "deferred", error: "awaiting the answer to the automatic refund of this attempt" };
  }
  if (found.pspReference !== event.pspReference) {
    // A refund on an attempt the payment does not follow: that money is no payment order's.
    return {
      outcome: "applied",
      error: `refund ${event.refundReference} of attempt ${event.pspReference}, which no payment order follows: nothing booked`,
    };
  }
  if (event.refundId !== undefined) {
    const mine = await tx.refunds.get(event.refundId);
    // Settlekit's own refund, reported before its PSP answer was stored: that answer completes
    // it (completing it here too would race it), and the retry of this event then finds it.
    if (mine && mine.origin !== "external" && mine.paymentId === found.id) return awaitingAnswer(mine);
  }
  // The payment's lock first, then its orders' (the order every writer takes them in).
  const payment = (await tx.payments.get(found.id, { forUpdate: true })) ?? found;
  const orders: PaymentOrder[] = [];
  for (const order of await tx.paymentOrders.listByPayment(found.id)) {
    orders.push((await tx.paymentOrders.get(order.id, { forUpdate: true })) ?? order);
  }
  // Read again under the locks: a concurrent report of the same refund has committed by now.
  const rows = (await tx.refunds.listByPspReference(event.refundReference)).filter(
    (r) => r.origin === "external" && r.paymentId === payment.id,
  );
  if (rows.length > 0) {
    if (event.status === "pending") return { outcome: "applied" };
    for (const row of rows) await completeRefund(deps, tx, row.id, result);
    return { outcome: "applied" };
  }
  const refunds = await tx.refunds.listByPayment(payment.id);
  // A PSP that does not keep settlekit's refund id: while one of settlekit's refunds of this
  // payment has no PSP answer, this may be its report.
  const inFlight = refunds.find(
    (r) => r.origin !== "external" && r.status === "pending" && !r.pspRefundReference,
  );
  if (inFlight) return awaitingAnswer(inFlight);
  return recordExternalRefund(deps, tx, payment, orders, refunds, event);
}
