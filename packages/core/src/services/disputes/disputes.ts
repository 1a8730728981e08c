import type { Deps } from "../../deps.js";
import type { Dispute } from "../../domain/dispute.js";
import { allocateDispute } from "../../domain/dispute.js";
import type { DisputeStatus } from "../../domain/dispute-status.js";
import { DISPUTE_STATUSES, disputeMachine } from "../../domain/dispute-status.js";
import type { Payment } from "../../domain/payment.js";
import type { PaymentAttempt } from "../../domain/payment-attempt.js";
import type { PaymentStatus } from "../../domain/payment-status.js";
import { ErrorCodes, isSettlekitError, SettlekitError } from "../../errors.js";
import {
  disputeClosedJournal,
  disputeReinstatedJournal,
  disputeWithdrawnJournal,
  unownedDisputeClosedJournal,
} from "../../ledger/dispute-journals.js";
import { postJournal } from "../../ledger/post-journal.js";
import { appendOutboxEvents } from "../../outbox/outbox.js";
import type { OutboxEventInput } from "../../ports/outbox.js";
import type { PspDisputeEvent } from "../../ports/psp-dispute.js";
import type { StoreTx } from "../../ports/store.js";
import type { Page } from "../../results.js";
import { pageOf } from "../../results.js";
import { disputeView } from "../../views/dispute.js";
import { EVENT_SCHEMA_VERSION } from "../../views/schema-version.js";

/** What applying one dispute event did (the webhook service records `error` on the event). */
export type DisputeEffect = { readonly outcome: "applied" | "deferred"; readonly error?: string };

/** Payments whose money was captured (and journaled): the only ones a dispute can move money of. */
const CAPTURED: ReadonlySet<PaymentStatus> = new Set(["succeeded", "partially_refunded", "refunded"]);

/** A stored (deferred) dispute event back from its JSON: bigints from strings, dates from ISO. */
export function disputeEventFromJson(raw: Record<string, unknown>): PspDisputeEvent {
  const big = (v: unknown) => BigInt(String(v));
  const withdrawn = raw.fundsWithdrawn as { amount: unknown; fee: unknown } | undefined;
  const reinstated = raw.fundsReinstated as { amount: unknown; feeReturned: unknown } | undefined;
  return {
    ...(raw as unknown as PspDisputeEvent),
    amount: big(raw.amount),
    occurredAt: new Date(String(raw.occurredAt)),
    ...(raw.evidenceDueBy !== undefined ? { evidenceDueBy: new Date(String(raw.evidenceDueBy)) } : {}),
    ...(withdrawn ? { fundsWithdrawn: { amount: big(withdrawn.amount), fee: big(withdrawn.fee) } } : {}),
    ...(reinstated
      ? { fundsReinstated: { amount: big(reinstated.amount), feeReturned: big(reinstated.feeReturned) } }
      : {}),
  };
}

/** Why a report cannot be a dispute of this payment, or undefined when it can. */
function mismatch(payment: Payment, event: PspDisputeEvent): string | undefined {
  if (!DISPUTE_STATUSES.includes(event.status)) return `unknown dispute status ${String(event.status)}`;
  if (event.currency.toUpperCase() !== payment.currency) {
    return `dispute currency ${event.currency} is not the payment's ${payment.currency}`;
  }
  if (event.amount <= 0n || event.amount > payment.amount) {
    return `disputed amount ${event.amount} is outside (0, ${payment.amount}]`;
  }
  const w = event.fundsWithdrawn;
  if (w && (w.amount < 0n || w.fee < 0n || w.amount > payment.amount)) {
    return `withdrawn ${w.amount} + fee ${w.fee} is not money of this payment`;
  }
  return undefined;
}

/** Why a report cannot be a dispute of this unowned capture, or undefined when it can. */
function unownedMismatch(attempt: PaymentAttempt, event: PspDisputeEvent): string | undefined {
  const captured = attempt.capturedAmount ?? attempt.amount;
  const currency = attempt.capturedCurrency ?? attempt.currency;
  if (!DISPUTE_STATUSES.includes(event.status)) return `unknown dispute status ${String(event.status)}`;
  if (event.currency.toUpperCase() !== currency) {
    return `dispute currency ${event.currency} is not the capture's ${currency}`;
  }
  if (event.amount <= 0n || event.amount > captured) {
    return `disputed amount ${event.amount} is outside (0, ${captured}] of the unowned capture`;
  }
  const w = event.fundsWithdrawn;
  if (w && (w.amount < 0n || w.fee < 0n || w.amount > captured)) {
    return `withdrawn ${w.amount} + fee ${w.fee} is not money of this capture`;
  }
  return undefined;
}

/**
 * What the platform still owes the buyer for an unowned capture when its dispute ends: all of it
 * unless its automatic refund succeeded or is still under way at the PSP (that one pays it).
 */
async function stillOwed(tx: StoreTx, attempt: PaymentAttempt): Promise<bigint> {
  const current = (await tx.paymentAttempts.get(attempt.paymentId, attempt.attempt)) ?? attempt;
  if (current.captureRefundStatus === "succeeded" || current.captureRefundStatus === "pending") return 0n;
  return current.capturedAmount ?? current.amount;
}

/** `value`, or `cap` when `value` exceeds it (bigints: `Math.min` takes numbers only). */
function capped(value: bigint, cap: bigint): bigint {
  if (value > cap) return cap;
  return value;
}

/** The outbox event a status change announces. */
const STATUS_EVENT: Partial<Record<DisputeStatus, string>> = { won: "dispute.won", lost: "dispute.lost" };

/**
 * Applies one dispute report to the disputed payment, in the webhook's transaction:
 * 1. the payment is found by the report's PSP reference (locked, so two events of one new dispute
 *    never both insert it); unknown, or not captured yet, → deferred like other events;
 * 2. the dispute is stored on first sight (`dispute.created`, split over the orders with
 *    {@link allocateDispute}) or its status moves with {@link disputeMachine}'s `apply` (late
 *    statuses are stale; an outcome after another outcome is flagged, nothing changes);
 * 3. the money follows what the PSP says it did, each movement posted once by reference:
 *    withdrawn (`dispute.funds_withdrawn`), reinstated (`dispute.funds_reinstated`), and at the
 *    end what is still held is written off — all of it when lost, what the PSP kept when won.
 * Duplicates and reordered reports converge: every report is a snapshot, every journal idempotent.
 */
export async function applyDisputeEvent(
  deps: Deps,
  tx: StoreTx,
  pspId: string,
  event: PspDisputeEvent,
): Promise<DisputeEffect> {
  const payment = await tx.payments.findByPspReference(pspId, event.pspReference, { forUpdate: true });
  if (!payment) return { outcome: "deferred", error: "unknown payment" };
  // A capture no payment order owns (an old page paid after a retry, a capture after the local
  // expiry): no seller's money, the platform's dispute (see `unownedDisputeClosedJournal`).
  const attempt = await tx.paymentAttempts.findByPspReference(pspId, event.pspReference);
  const unowned = attempt?.unownedReason !== undefined ? attempt : undefined;
  if (!unowned && attempt && attempt.pspReference !== payment.pspReference)
    return { outcome: "deferred", error: "dispute on an attempt whose capture is not recorded yet" };
  if (!unowned && !CAPTURED.has(payment.status))
    return { outcome: "deferred", error: "dispute on a payment not captured" };
  const wrong = unowned ? unownedMismatch(unowned, event) : mismatch(payment, event);
  if (wrong) return { outcome: "applied", error: wrong };
  const orders = unowned ? [] : await tx.paymentOrders.listByPayment(payment.id);
  const now = deps.clock.now();
  const notes: string[] = [];
  /** Outbox event types, in order; each carries the dispute as stored at the end of this report. */
  const events: string[] = [];
  const stored = await tx.disputes.findByPspReference(pspId, event.disputeReference, { forUpdate: true });
  let next: Dispute;
  /** The status change's event: after the money's, so a `dispute.won` follows its reinstatement. */
  let statusType: string | undefined;
  if (!stored) {
    next = {
      id: `dp_${deps.ids.newId().replaceAll("-", "")}`,
      paymentId: payment.id,
      pspId,
      pspDisputeReference: event.disputeReference,
      pspReference: event.pspReference,
      amount: event.amount,
      currency: unowned ? (unowned.capturedCurrency ?? unowned.currency) : payment.currency,
      amountWithdrawn: 0n,
      fee: 0n,
      amountReinstated: 0n,
      feeReturned: 0n,
      // No seller bears a dispute of money no order owns.
      feeBearer: unowned ? "platform" : deps.disputeFees,
      reason: event.reason,
      status: event.status,
      evidenceDueBy: event.evidenceDueBy,
      allocations: allocateDispute(orders, event.amount, 0n),
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    events.push("dispute.created");
    statusType = STATUS_EVENT[next.status];
  } else {
    next = { ...stored };
    let type: string | undefined;
    try {
      const moved = disputeMachine.apply(stored.status, event.status);
      if (moved.changed) {
        next.status = moved.state;
        type = STATUS_EVENT[moved.state] ?? "dispute.updated";
      }
      // A stale report's details are stale too; a current one may move the deadline.
      if (moved.changed || moved.reason === "same") {
        if (event.evidenceDueBy && event.evidenceDueBy.getTime() !== next.evidenceDueBy?.getTime()) {
          next.evidenceDueBy = event.evidenceDueBy;
          type ??= "dispute.updated";
        }
        if (event.reason && event.reason !== next.reason) {
          next.reason = event.reason;
          type ??= "dispute.updated";
        }
      }
    } catch (error) {
      if (!isSettlekitError(error, "INVALID_STATE_TRANSITION")) throw error;
      notes.push(error.message);
    }
    statusType = type;
  }

  const w = event.fundsWithdrawn;
  if (w && next.fundsWithdrawnAt === undefined && w.amount + w.fee > 0n) {
    next = {
      ...next,
      amountWithdrawn: w.amount,
      fee: w.fee,
      allocations: allocateDispute(orders, w.amount, w.fee),
      fundsWithdrawnAt: now,
    };
    await postJournal(tx, disputeWithdrawnJournal(next), deps);
    events.push("dispute.funds_withdrawn");
  }
  const r = event.fundsReinstated;
  if (r && next.fundsReinstatedAt === undefined && r.amount + r.feeReturned > 0n) {
    if (next.fundsWithdrawnAt === undefined) {
      notes.push("funds reinstated before any were withdrawn: nothing moved");
    } else {
      // The PSP never gives back more than it took: clamp (and flag) rather than create money.
      const amount = capped(r.amount, next.amountWithdrawn);
      const feeReturned = capped(r.feeReturned, next.fee);
      if (amount !== r.amount || feeReturned !== r.feeReturned) {
        notes.push(`reinstated ${r.amount} + fee ${r.feeReturned} exceeds what was withdrawn`);
      }
      next = { ...next, amountReinstated: amount, feeReturned, fundsReinstatedAt: now };
      await postJournal(tx, disputeReinstatedJournal(next), deps);
      events.push("dispute.funds_reinstated");
    }
  }
  if (statusType) events.push(statusType);
  if (next.status === "lost" && next.fundsWithdrawnAt === undefined) {
    notes.push("dispute lost before the PSP reported withdrawing funds: nothing written off");
  }
  const outcome = next.status === "lost" ? "lost" : next.status === "won" ? "won" : undefined;
  // Lost: everything still held is gone. Won: only once the PSP said what it gave back.
  const closes =
    outcome === "lost"
      ? next.fundsWithdrawnAt !== undefined
      : outcome === "won" && next.fundsReinstatedAt !== undefined;
  if (outcome && closes) {
    const closing = unowned
      ? unownedDisputeClosedJournal(next, outcome, await stillOwed(tx, unowned))
      : disputeClosedJournal(next, outcome);
    if (closing) await postJournal(tx, closing, deps);
  }

  if (!stored) {
    await tx.disputes.insert(next);
  } else if (events.length > 0) {
    next = { ...next, version: stored.version + 1, updatedAt: now };
    if (!(await tx.disputes.update(next))) {
      throw new SettlekitError(
        ErrorCodes.STORE_CONFLICT,
        `Dispute ${stored.id} changed concurrently; retry.`,
      );
    }
  }
  const payload = { schema_version: EVENT_SCHEMA_VERSION, ...disputeView(next) };
  const outbox: OutboxEventInput[] = events.map((type) => ({
    type,
    aggregateType: "payment",
    aggregateId: payment.id,
    payload,
  }));
  await appendOutboxEvents(tx, outbox, deps);
  return notes.length > 0 ? { outcome: "applied", error: notes.join("; ") } : { outcome: "applied" };
}

export interface DisputeListQuery {
  /** Only these statuses. */
  readonly statuses?: readonly DisputeStatus[];
  /** At most this many (1–100, default 50). */
  readonly limit?: number;
  /** The page after this dispute id (lists are newest first). */
  readonly startingAfter?: string;
}

/** Operator: disputes, newest first, paged. */
export async function listDisputes(deps: Deps, query: DisputeListQuery = {}): Promise<Page<Dispute>> {
  const limit = Math.min(Math.max(Math.trunc(query.limit ?? 50), 1), 100);
  const found = await deps.store.transaction(
    (tx) =>
      tx.disputes.list({
        limit: limit + 1,
        ...(query.statuses ? { statuses: query.statuses } : {}),
        ...(query.startingAfter ? { beforeId: query.startingAfter } : {}),
      }),
    { readOnly: true },
  );
  return pageOf(found, limit);
}

/** Operator: one dispute; NOT_FOUND when there is none. */
export async function getDispute(deps: Deps, id: string): Promise<Dispute> {
  const dispute = await deps.store.transaction((tx) => tx.disputes.get(id), { readOnly: true });
  if (!dispute) throw new SettlekitError(ErrorCodes.NOT_FOUND, `No dispute ${id}.`, { param: "id" });
  return dispute;
}
