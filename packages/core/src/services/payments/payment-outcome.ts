import type { Deps } from "../../deps.js";
import type { Payment } from "../../domain/payment.js";
import type { PaymentOrder } from "../../domain/payment-order.js";
import { applyToPaymentOrder, transitionPaymentOrder } from "../../domain/payment-order.js";
import type { PaymentStatus } from "../../domain/payment-status.js";
import { paymentMachine } from "../../domain/payment-status.js";
import { ErrorCodes, SettlekitError } from "../../errors.js";
import { enqueueJob } from "../../jobs/job-runner.js";
import { accounts } from "../../ledger/accounts.js";
import { postJournal } from "../../ledger/post-journal.js";
import { appendOutboxEvents } from "../../outbox/outbox.js";
import type { PaymentInstrument, PspPaymentStatus } from "../../ports/psp.js";
import type { StoreTx } from "../../ports/store.js";
import { paymentEventPayload } from "../../views/payment.js";
import { recordUnownedCapture } from "./attempts.js";

export interface OutcomeDetails {
  readonly failureCode?: string;
  readonly failureMessage?: string;
  readonly instrument?: PaymentInstrument;
  /** The amount the PSP reports for the attempt, in minor units (required with `succeeded`). */
  readonly amount?: bigint;
  /** The currency the PSP reports for the attempt, ISO 4217 (required with `succeeded`). */
  readonly currency?: string;
}

/** Why a PSP report's money is not the payment's (the payment's `reviewReason`). */
export type MoneyDiscrepancy = "amount_mismatch" | "currency_mismatch" | "amount_not_reported";

/**
 * Checks the money a PSP reports against the payment, for the statuses in which money moves:
 * a `succeeded` report must carry the amount and currency captured, and both must be the
 * payment's; a `processing` report that carries them must match too. Other statuses move no
 * money and are not checked. Every path that applies a PSP status (webhook, poll, registration)
 * goes through {@link applyPaymentStatus}, which calls this.
 */
export function moneyDiscrepancy(
  payment: Pick<Payment, "amount" | "currency">,
  status: PspPaymentStatus,
  reported: Pick<OutcomeDetails, "amount" | "currency">,
): MoneyDiscrepancy | undefined {
  if (status !== "succeeded" && status !== "processing") return undefined;
  if (reported.amount === undefined || reported.currency === undefined) {
    return status === "succeeded" ? "amount_not_reported" : undefined;
  }
  if (reported.currency.toUpperCase() !== payment.currency) return "currency_mismatch";
  if (reported.amount !== payment.amount) return "amount_mismatch";
  return undefined;
}

/** Postgres's bigint range: a reported amount outside it is recorded as not stored. */
const INT64_MAX = 9_223_372_036_854_775_807n;

/** What the PSP reported, made safe to store (a PSP's text is bounded and printable). */
function reportedMoney(details: OutcomeDetails): Pick<Payment, "reportedAmount" | "reportedCurrency"> {
  const amount = details.amount;
  const currency = details.currency?.replace(/[^\x20-\x7e]/g, "?").slice(0, 16);
  return {
    reportedAmount: amount !== undefined && amount <= INT64_MAX && amount >= -INT64_MAX ? amount : undefined,
    reportedCurrency: currency,
  };
}

/** Outbox event type per payment status reached (stable names, part of the API). */
const EVENT_TYPE: Partial<Record<PaymentStatus, string>> = {
  requires_payment: "payment.registered",
  processing: "payment.processing",
  succeeded: "payment.succeeded",
  failed: "payment.failed",
  canceled: "payment.canceled",
  expired: "payment.expired",
  requires_review: "payment.review_required",
};

/** Notification job per status reached. */
const NOTIFY: Partial<Record<PaymentStatus, string>> = {
  processing: "notify.payment_pending",
  succeeded: "notify.payment_succeeded",
  failed: "notify.payment_failed",
};

/**
 * Stores a payment that moved to `next.status` — its orders, the ledger journal when the money
 * arrived, the outbox event and the buyer notification job — inside `tx`, so all of it commits
 * together. `next.version` must be the stored version + 1 (compare-and-set). `currentOrders`:
 * the payment's orders as stored at `next.version - 1`, when the caller has them (saves a read).
 */
export async function recordPaymentChange(
  deps: Deps,
  tx: StoreTx,
  next: Payment,
  currentOrders?: readonly PaymentOrder[],
): Promise<PaymentOrder[]> {
  const orders = await tryRecordPaymentChange(deps, tx, next, currentOrders);
  if (!orders) {
    throw new SettlekitError(ErrorCodes.STORE_CONFLICT, `Payment ${next.id} changed concurrently; retry.`);
  }
  return orders;
}

/**
 * {@link recordPaymentChange}, but `null` when the payment is no longer at `next.version - 1`
 * — checked by the first write, so nothing at all was written and the caller may read the
 * payment and decide again in the same transaction.
 */
export async function tryRecordPaymentChange(
  deps: Deps,
  tx: StoreTx,
  next: Payment,
  currentOrders?: readonly PaymentOrder[],
): Promise<PaymentOrder[] | null> {
  if (!(await tx.payments.update(next))) return null;
  const now = next.updatedAt;
  const orderStatus =
    next.status === "succeeded"
      ? "succeeded"
      : ["failed", "canceled", "expired"].includes(next.status)
        ? "failed"
        : undefined;
  const orders: PaymentOrder[] = [];
  const changed: PaymentOrder[] = [];
  for (const order of currentOrders ?? (await tx.paymentOrders.listByPayment(next.id))) {
    // A new attempt (retry) rewinds failed orders to pending; outcomes are applied as reports.
    const moved =
      next.status === "requires_payment" && order.status === "failed"
        ? { changed: true, state: transitionPaymentOrder(order, "retry") }
        : orderStatus
          ? applyToPaymentOrder(order, orderStatus)
          : { changed: false, state: order };
    if (!moved.changed) {
      orders.push(order);
      continue;
    }
    const updated: PaymentOrder = {
      ...moved.state,
      failureReason: orderStatus === "failed" ? (next.failureReason ?? next.status) : undefined,
      version: order.version + 1,
      updatedAt: now,
    };
    changed.push(updated);
    orders.push(updated);
  }
  // All of the payment's orders in one write (one round trip on Postgres).
  if (!(await tx.paymentOrders.updateMany(changed))) {
    throw new SettlekitError(
      ErrorCodes.STORE_CONFLICT,
      `A payment order of payment ${next.id} changed concurrently; retry.`,
    );
  }
  if (next.status === "succeeded") {
    // Payment succeeded: the PSP owes us the total; each seller is owed their order, pending fulfilment.
    await postJournal(
      tx,
      {
        reference: `payment:${next.id}:${next.pspReference ?? "none"}`,
        kind: "payment_succeeded",
        metadata: { paymentId: next.id, psp: next.pspId, pspReference: next.pspReference ?? "" },
        postings: [
          {
            account: accounts.pspReceivable(next.pspId),
            currency: next.currency,
            direction: "debit",
            amount: next.amount,
          },
          ...orders.map((o) => ({
            account: accounts.sellerPending(o.sellerId),
            currency: o.currency,
            direction: "credit" as const,
            amount: o.amount,
          })),
        ],
      },
      deps,
    );
  }
  const type = EVENT_TYPE[next.status];
  if (type) {
    await appendOutboxEvents(
      tx,
      [{ type, aggregateType: "payment", aggregateId: next.id, payload: paymentEventPayload(next, orders) }],
      deps,
    );
  }
  const notify = NOTIFY[next.status];
  if (notify) {
    await enqueueJob(
      tx,
      {
        type: notify,
        payload: { paymentId: next.id, version: next.version },
        dedupeKey: `${notify}:${next.id}:${next.version}`,
        maxAttempts: deps.settings.notificationMaxAttempts,
      },
      deps,
    );
  }
  return orders;
}

/**
 * Applies a status the PSP reported for the payment's current attempt, with the state machine's
 * rules: the same or an older status changes nothing (late, duplicate or reordered webhooks);
 * an impossible one throws INVALID_STATE_TRANSITION (a discrepancy to investigate).
 * The reported money is checked first ({@link moneyDiscrepancy}): a report whose amount or
 * currency is not the payment's proposes `requires_review` instead of its status, so it never
 * succeeds, credits no seller and posts no journal; the payment records what the PSP reported
 * and a `payment.review_required` event (the operator's alert) commits with it.
 */
export async function applyPaymentStatus(
  deps: Deps,
  tx: StoreTx,
  payment: Payment,
  status: PspPaymentStatus,
  details: OutcomeDetails = {},
): Promise<{ changed: boolean; payment: Payment; orders?: PaymentOrder[] }> {
  const discrepancy = moneyDiscrepancy(payment, status, details);
  const result = paymentMachine.apply(payment.status, discrepancy ? "requires_review" : status);
  if (!result.changed) return { changed: false, payment };
  let next: Payment = {
    ...payment,
    status: result.state,
    ...(discrepancy ? { reviewReason: discrepancy, ...reportedMoney(details) } : {}),
    // A success (a later try on the PSP's page) clears the earlier decline.
    failureReason:
      result.state === "failed"
        ? (details.failureCode ?? "payment_failed")
        : result.state === "succeeded"
          ? undefined
          : result.state === "expired"
            ? (payment.failureReason ?? "expired")
            : payment.failureReason,
    version: payment.version + 1,
    updatedAt: deps.clock.now(),
  };
  let current: PaymentOrder[] | undefined;
  if (next.status === "succeeded" && deps.options.estimateDelivery && !next.estimatedDeliveryAt) {
    // Fixed once, with the payment: the email and the status page then agree.
    current = await tx.paymentOrders.listByPayment(payment.id);
    const estimate = deps.options.estimateDelivery(next, current);
    if (estimate) next = { ...next, estimatedDeliveryAt: estimate };
  }
  const orders = await recordPaymentChange(deps, tx, next, current);
  return { changed: true, payment: next, orders };
}

/** An operator's decision on a payment in `requires_review` (see `paymentMachine`). */
export type ReviewDecision = "approve" | "reject";

/**
 * Resolves a review, in one transaction: `approve` — the payment's own amount and currency were
 * captured after all (checked at the PSP) — makes the payment succeed with its seller credit and
 * journal; `reject` cancels it (what the PSP captured is returned to the buyer at the PSP; nothing
 * was posted): when the PSP reported a capture, it is refunded automatically
 * (`payment.capture_unowned`, then `payment.capture_refunded`). A payment not in review is
 * INVALID_STATE_TRANSITION; an unknown one NOT_FOUND.
 */
export async function resolvePaymentReview(
  deps: Deps,
  paymentId: string,
  decision: ReviewDecision,
): Promise<{ payment: Payment; orders: PaymentOrder[] }> {
  if (decision !== "approve" && decision !== "reject") {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, 'A review decision is "approve" or "reject".', {
      param: "decision",
    });
  }
  return deps.store.transaction(async (tx) => {
    const payment = await tx.payments.get(paymentId, { forUpdate: true });
    if (!payment) throw new SettlekitError(ErrorCodes.NOT_FOUND, `No payment ${paymentId}.`, { param: "id" });
    const next: Payment = {
      ...payment,
      status: paymentMachine.transition(payment.status, decision),
      failureReason:
        decision === "reject" ? `review_rejected:${payment.reviewReason ?? "unknown"}` : undefined,
      version: payment.version + 1,
      updatedAt: deps.clock.now(),
    };
    const orders = await recordPaymentChange(deps, tx, next);
    if (decision === "reject" && payment.pspReference) {
      // What the PSP captured for a rejected payment goes back to the buyer, automatically.
      const attempt = await tx.paymentAttempts.findByPspReference(payment.pspId, payment.pspReference);
      if (attempt?.status === "succeeded")
        await recordUnownedCapture(deps, tx, next, attempt, "review_rejected");
    }
    return { payment: next, orders };
  });
}
