import type { Deps } from "../../deps.js";
import type { Payment } from "../../domain/payment.js";
import type { PaymentAttempt, UnownedCaptureReason } from "../../domain/payment-attempt.js";
import type { PaymentOrder } from "../../domain/payment-order.js";
import type { PaymentStatus } from "../../domain/payment-status.js";
import { ErrorCodes, isSettlekitError, SettlekitError } from "../../errors.js";
import { enqueueJob, PermanentJobError } from "../../jobs/job-runner.js";
import { accounts } from "../../ledger/accounts.js";
import { postJournal } from "../../ledger/post-journal.js";
import { isCurrencyCode } from "../../money/currency.js";
import { appendOutboxEvents } from "../../outbox/outbox.js";
import type {
  CanceledHostedPayment,
  HostedPayment,
  PaymentProvider,
  PspPaymentStatus,
  RefundResult,
} from "../../ports/psp.js";
import type { StoreTx } from "../../ports/store.js";
import { isPspError } from "../../runtime/psp-error.js";
import { unownedCapturePayload } from "../../views/attempt.js";
import { withPspTimeout } from "../psp-timeout.js";
import type { OutcomeDetails } from "./payment-outcome.js";
import { applyPaymentStatus } from "./payment-outcome.js";

/** Job: close attempts a payment no longer follows at their PSP (payload `{ paymentId }`). */
export const CLOSE_ATTEMPTS_JOB = "psp.close_attempts";
/** Job: refund money captured on an attempt no payment order owns (payload `{ paymentId, attempt }`). */
export const REFUND_CAPTURE_JOB = "psp.refund_capture";

/** Statuses of a payment nobody has paid yet: a capture on any of its attempts pays it. */
const UNPAID: readonly PaymentStatus[] = ["requires_payment", "processing", "failed"];
/** Attempt statuses in which the buyer can still pay on the attempt's page (it is worth closing). */
const PAYABLE: readonly PspPaymentStatus[] = ["requires_payment", "failed"];

/** The status of the attempt a payment follows, read from the payment's (undefined: its own record says). */
export function followedStatus(status: PaymentStatus): PspPaymentStatus | undefined {
  if (status === "partially_refunded" || status === "refunded") return "succeeded";
  return status === "created" || status === "requires_review" ? undefined : status;
}

/**
 * Writes the payment's status onto the attempt it follows, as the payment moves to another one
 * (a retry, or money on another page): from then on that record speaks for itself.
 */
export async function settleFollowed(deps: Deps, tx: StoreTx, payment: Payment): Promise<void> {
  const status = followedStatus(payment.status);
  if (!payment.pspReference || !status) return;
  const attempt = await tx.paymentAttempts.findByPspReference(payment.pspId, payment.pspReference);
  if (attempt && !attempt.closedAt && attempt.status !== status)
    await saveAttempt(deps, tx, attempt, { status });
}

/** The attempt record of a registration that was just stored against `payment`. */
export async function recordAttempt(
  deps: Deps,
  tx: StoreTx,
  payment: Payment,
  hosted: Pick<HostedPayment, "pspReference">,
): Promise<void> {
  const now = deps.clock.now();
  await tx.paymentAttempts.insert({
    paymentId: payment.id,
    attempt: payment.attempt,
    pspId: payment.pspId,
    pspReference: hosted.pspReference,
    amount: payment.amount,
    currency: payment.currency,
    status: "requires_payment",
    version: 1,
    createdAt: now,
    updatedAt: now,
  });
}

async function saveAttempt(
  deps: Deps,
  tx: StoreTx,
  attempt: PaymentAttempt,
  change: Partial<PaymentAttempt>,
) {
  const next: PaymentAttempt = {
    ...attempt,
    ...change,
    version: attempt.version + 1,
    updatedAt: deps.clock.now(),
  };
  if (!(await tx.paymentAttempts.update(next))) {
    throw new SettlekitError(
      ErrorCodes.STORE_CONFLICT,
      `Payment attempt ${attempt.paymentId}#${attempt.attempt} changed concurrently; retry.`,
    );
  }
  return next;
}

/** Records what the PSP reported for one attempt (its status, and what it captured on a success). */
async function noteReport(
  deps: Deps,
  tx: StoreTx,
  attempt: PaymentAttempt,
  status: PspPaymentStatus,
  details: OutcomeDetails,
): Promise<PaymentAttempt> {
  // A captured attempt stays captured: later reports (a late decline, the session expiring) do
  // not undo money that moved.
  if (attempt.status === "succeeded" || attempt.status === status) return attempt;
  return saveAttempt(deps, tx, attempt, {
    status,
    ...(status === "succeeded"
      ? {
          capturedAmount: details.amount ?? attempt.amount,
          capturedCurrency: details.currency?.toUpperCase().slice(0, 16) ?? attempt.currency,
        }
      : {}),
  });
}

/**
 * Applies a PSP report about one attempt of `payment` (webhook, poll, cancel answer), whichever
 * attempt it is. The payment follows one attempt (`payment.pspReference`): the newest until one
 * captures money, then the one that did.
 * - A report on the followed attempt is applied by the state machine. A PSP that closed the page
 *   (`expired`, `canceled`) before the payment's own deadline ended the attempt, not the payment:
 *   it is a failure the buyer can retry; at or after the deadline the payment expired. A capture after the payment expired or was canceled is kept and
 *   refunded automatically ({@link recordUnownedCapture}).
 * - Money moving on another attempt (`processing`, `succeeded`) while the payment is unpaid: the
 *   payment follows that attempt from now on, and the others are closed at the PSP.
 * - A capture on another attempt once the payment is paid (or closed) belongs to no payment
 *   order: recorded and refunded automatically — never dropped, never a second sale.
 * - Anything else about another attempt is recorded on it and changes nothing else.
 */
export async function applyAttemptReport(
  deps: Deps,
  tx: StoreTx,
  payment: Payment,
  pspReference: string,
  reported: PspPaymentStatus,
  details: OutcomeDetails = {},
): Promise<{ changed: boolean; payment: Payment; orders?: PaymentOrder[] }> {
  // The attempt's own record, with this report on it. The followed attempt's status is the
  // payment's (derivable, so not written on every webhook): it is noted only where its record is
  // needed — what a success put in review captured, a capture after expiry.
  const noted = async () => {
    const attempt = await tx.paymentAttempts.findByPspReference(payment.pspId, pspReference);
    return attempt ? noteReport(deps, tx, attempt, reported, details) : null;
  };
  if (payment.pspReference !== pspReference) {
    const attempt = await noted();
    if (!attempt) return { changed: false, payment };
    if (reported !== "succeeded" && reported !== "processing") return { changed: false, payment };
    if (UNPAID.includes(payment.status)) {
      // A transfer in flight on the followed attempt and another one on this: keep following it.
      if (reported === "processing" && payment.status === "processing") return { changed: false, payment };
      const applied = await applyPaymentStatus(deps, tx, { ...payment, pspReference }, reported, details);
      if (applied.changed) {
        await settleFollowed(deps, tx, payment);
        await queueCloseAttempts(deps, tx, payment.id);
      }
      return applied;
    }
    if (reported === "succeeded" && !captureDropped(deps, payment)) {
      const reason: UnownedCaptureReason =
        payment.status === "expired"
          ? "after_expiry"
          : payment.status === "canceled"
            ? "after_cancel"
            : "superseded";
      await recordUnownedCapture(deps, tx, payment, attempt, reason);
    }
    return { changed: false, payment };
  }
  let status = reported;
  let failure = details;
  const now = deps.clock.now();
  if ((reported === "expired" || reported === "canceled") && UNPAID.includes(payment.status)) {
    if (!payment.expiresAt || payment.expiresAt > now) {
      // The PSP closed the page before the payment's deadline (Stripe sessions last at most 24 h;
      // a page settlekit closed for a retry reports it too): the attempt ended, not the payment —
      // the buyer gets a new page on retry.
      status = "failed";
      failure = { ...details, failureCode: reported === "expired" ? "attempt_expired" : "attempt_canceled" };
    } else {
      // At or past the deadline, however the PSP calls it: the payment expired.
      status = "expired";
    }
  }
  try {
    const applied = await applyPaymentStatus(deps, tx, payment, status, failure);
    // A success put in review: an operator who rejects it refunds what the attempt captured.
    if (applied.changed && applied.payment.status === "requires_review" && reported === "succeeded") {
      await noted();
    }
    return applied;
  } catch (error) {
    if (!isSettlekitError(error, "INVALID_STATE_TRANSITION")) throw error;
    if (reported === "succeeded" && captureDropped(deps, payment)) return { changed: false, payment };
    const attempt =
      reported === "succeeded" && (payment.status === "expired" || payment.status === "canceled")
        ? await noted()
        : null;
    if (attempt) {
      await recordUnownedCapture(
        deps,
        tx,
        payment,
        attempt,
        payment.status === "expired" ? "after_expiry" : "after_cancel",
      );
      return { changed: false, payment };
    }
    throw error;
  }
}

/** TEST ONLY (`testOnlyReintroducedBugs.captureAfterCloseDropped`): the fixed bug that lost such captures. */
const captureDropped = (deps: Deps, payment: Payment): boolean =>
  deps.options.testOnlyReintroducedBugs?.captureAfterCloseDropped === true &&
  (payment.status === "expired" || payment.status === "canceled");

/** Queues closing, at the PSP, every attempt of the payment it does not follow that can still be paid. */
export async function queueCloseAttempts(deps: Deps, tx: StoreTx, paymentId: string): Promise<void> {
  await enqueueJob(
    tx,
    {
      type: CLOSE_ATTEMPTS_JOB,
      payload: { paymentId },
      dedupeKey: `${CLOSE_ATTEMPTS_JOB}:${paymentId}:${deps.ids.newId()}`,
      maxAttempts: deps.settings.registrationMaxAttempts,
    },
    deps,
  );
}

/**
 * The answer of the PSP to closing an attempt, recorded: `canceled` closes it; a payment that got
 * there first (`succeeded`, `processing`) is applied as a report on that attempt.
 */
export async function recordCloseAnswer(
  deps: Deps,
  tx: StoreTx,
  paymentId: string,
  attemptNumber: number,
  answer: CanceledHostedPayment,
): Promise<void> {
  // The payment's row lock first: every writer of its attempts holds it (webhooks, jobs, sweeper).
  const payment = await tx.payments.get(paymentId, { forUpdate: true });
  const attempt = await tx.paymentAttempts.get(paymentId, attemptNumber);
  if (!attempt || !payment) return;
  if (answer.status === "canceled" || answer.status === "expired") {
    if (attempt.closedAt && attempt.status === answer.status) return;
    if (attempt.status === "succeeded" || attempt.status === "processing") {
      await saveAttempt(deps, tx, attempt, { closedAt: attempt.closedAt ?? deps.clock.now() });
      return;
    }
    await saveAttempt(deps, tx, attempt, { closedAt: deps.clock.now(), status: answer.status });
    return;
  }
  await applyAttemptReport(deps, tx, payment, attempt.pspReference, answer.status, {
    ...(answer.amount !== undefined ? { amount: answer.amount } : {}),
    ...(answer.currency !== undefined ? { currency: answer.currency } : {}),
  });
}

/**
 * Closes at the PSP the attempts of a payment that can still be paid — all of them but
 * `keepAttempt` — outside any transaction, and records each answer. Returns false when the PSP
 * said money moved on one of them (the payment then followed it), true when none can be paid any
 * more. A PSP without `cancelHostedPayment` closes nothing: it is asked about each page instead, and
 * money that moved there is applied (a capture that still comes later is refunded).
 * PSP failures propagate: the caller (a retry, the sweeper, a job) tries again later.
 */
export async function closeAttempts(
  deps: Deps,
  paymentId: string,
  reason: "superseded" | "expired" | "canceled",
  keepFollowed: boolean,
): Promise<boolean> {
  const { payment, attempts } = await deps.store.transaction(async (tx) => ({
    payment: await tx.payments.get(paymentId),
    attempts: await tx.paymentAttempts.listByPayment(paymentId),
  }));
  if (!payment) return true;
  const provider = deps.provider(payment.pspId);
  const cancel =
    provider.capabilities.cancelHostedPayments && provider.cancelHostedPayment
      ? provider.cancelHostedPayment.bind(provider)
      : undefined;
  let closed = true;
  for (const attempt of attempts) {
    if (keepFollowed && attempt.pspReference === payment.pspReference) continue;
    if (attempt.closedAt || !PAYABLE.includes(attempt.status)) {
      if (attempt.status === "processing") closed = false;
      continue;
    }
    const answer = cancel
      ? await closeAt(deps, payment.pspId, attempt, reason, cancel)
      : await moneyMovedAt(deps, payment.pspId, attempt);
    if (!answer) continue;
    await deps.store.transaction((tx) => recordCloseAnswer(deps, tx, paymentId, attempt.attempt, answer));
    if (answer.status !== "canceled" && answer.status !== "expired") closed = false;
  }
  return closed;
}

/** Closes one page at the PSP; a page the PSP does not know (any more) cannot be paid: closed. */
async function closeAt(
  deps: Deps,
  pspId: string,
  attempt: PaymentAttempt,
  reason: "superseded" | "expired" | "canceled",
  cancel: NonNullable<PaymentProvider["cancelHostedPayment"]>,
): Promise<CanceledHostedPayment> {
  try {
    return await withPspTimeout(deps, pspId, () =>
      cancel({
        pspReference: attempt.pspReference,
        reason,
        idempotencyKey: `${attempt.paymentId}:close:${attempt.attempt}`,
      }),
    );
  } catch (error) {
    if (!isPspError(error, "fatal") || error.code !== "NOT_FOUND") throw error;
    return { pspReference: attempt.pspReference, status: "canceled" };
  }
}

/**
 * For a PSP that cannot close pages: asks it about one page that may still be paid, so money that
 * moved there without a webhook (an old page paid after a retry) is applied before a new page is
 * handed out or the payment expires. Undefined when nothing moved (the page stays open).
 */
async function moneyMovedAt(
  deps: Deps,
  pspId: string,
  attempt: PaymentAttempt,
): Promise<CanceledHostedPayment | undefined> {
  try {
    const remote = await withPspTimeout(deps, pspId, () =>
      deps.provider(pspId).retrievePayment({ pspReference: attempt.pspReference }),
    );
    if (remote.status !== "succeeded" && remote.status !== "processing") return undefined;
    return {
      pspReference: remote.pspReference,
      status: remote.status,
      amount: remote.amount,
      currency: remote.currency,
    };
  } catch (error) {
    if (!isPspError(error, "fatal") || error.code !== "NOT_FOUND") throw error;
    return undefined;
  }
}

/**
 * The postings of an unowned capture: `owed` — the PSP holds it and the platform owes it back to
 * the buyer; `returned` — its refund went out, both sides cleared.
 */
const owedToBuyer = (pspId: string, currency: string, amount: bigint, how: "owed" | "returned") => {
  const psp = { account: accounts.pspReceivable(pspId), currency, amount };
  const buyer = { account: accounts.platformCapturesToReturn, currency, amount };
  return how === "owed"
    ? [
        { ...psp, direction: "debit" as const },
        { ...buyer, direction: "credit" as const },
      ]
    : [
        { ...buyer, direction: "debit" as const },
        { ...psp, direction: "credit" as const },
      ];
};

const captureJournal = (attempt: PaymentAttempt) =>
  `unowned-capture:${attempt.pspId}:${attempt.pspReference}`;

/**
 * The job that refunds an unowned capture at the PSP (one per attempt, by its dedupe key): enqueued
 * with the capture, or — when it is not there — now. The job as it is, with `created` when this
 * call enqueued it.
 */
export function enqueueCaptureRefund(deps: Deps, tx: StoreTx, attempt: PaymentAttempt) {
  return enqueueJob(
    tx,
    {
      type: REFUND_CAPTURE_JOB,
      payload: { paymentId: attempt.paymentId, attempt: attempt.attempt },
      dedupeKey: `${REFUND_CAPTURE_JOB}:${attempt.paymentId}:${attempt.attempt}`,
      // Money owed to a buyer: retried for long (backoff), then a dead letter an operator sees
      // (and the refund sweeper, which sends it itself if it never was: see sweepPendingRefunds).
      maxAttempts: 20,
    },
    deps,
  );
}

/**
 * Settlekit's refund id of the automatic refund of an unowned capture, as the PSP keeps it with
 * the refund (what `retrieveRefund` finds it by when its answer was lost).
 */
export const captureRefundId = (attempt: Pick<PaymentAttempt, "paymentId" | "attempt">): string =>
  `rf_capture_${attempt.paymentId.replace(/[^A-Za-z0-9]/g, "")}_${attempt.attempt}`;

/**
 * Money the PSP captured on an attempt that no payment order owns: recorded once (idempotent by
 * attempt) — the ledger says the PSP holds it (`psp:X:receivable`) and owes it back to the buyer
 * (`platform:captures_to_return`) — with an operator event `payment.capture_unowned`, and a job
 * refunds it at the PSP. A capture in another currency than the attempt's is not refunded
 * automatically (its amount cannot be trusted): the event says `refund_status: null` for an
 * operator to settle at the PSP.
 */
export async function recordUnownedCapture(
  deps: Deps,
  tx: StoreTx,
  payment: Payment,
  attempt: PaymentAttempt,
  reason: UnownedCaptureReason,
): Promise<void> {
  if (attempt.unownedReason) return;
  const amount = attempt.capturedAmount ?? attempt.amount;
  const currency = attempt.capturedCurrency ?? attempt.currency;
  const refundable = currency === attempt.currency && isCurrencyCode(currency) && amount > 0n;
  const marked = await saveAttempt(deps, tx, attempt, {
    unownedReason: reason,
    ...(refundable ? { captureRefundStatus: "pending" as const } : {}),
  });
  if (refundable) {
    await postJournal(
      tx,
      {
        reference: captureJournal(marked),
        kind: "unowned_capture",
        metadata: { paymentId: payment.id, psp: marked.pspId, pspReference: marked.pspReference, reason },
        postings: owedToBuyer(marked.pspId, currency, amount, "owed"),
      },
      deps,
    );
    await enqueueCaptureRefund(deps, tx, marked);
  }
  await appendOutboxEvents(
    tx,
    [
      {
        type: "payment.capture_unowned",
        aggregateType: "payment",
        aggregateId: payment.id,
        payload: unownedCapturePayload(payment, marked),
      },
    ],
    deps,
  );
}

/**
 * The PSP's answer (or webhook) about the automatic refund of an unowned capture: `succeeded`
 * takes the money out of the ledger again (`payment.capture_refunded`), `failed` leaves it owed
 * for an operator (`payment.capture_refund_failed`), `pending` records the refund's reference.
 * Settled refunds ignore later reports.
 */
export async function completeCaptureRefund(
  deps: Deps,
  tx: StoreTx,
  attempt: PaymentAttempt,
  result: RefundResult,
): Promise<void> {
  const payment = await tx.payments.get(attempt.paymentId, { forUpdate: true });
  const current = await tx.paymentAttempts.get(attempt.paymentId, attempt.attempt);
  if (!payment || !current) return;
  if (current.captureRefundStatus === "succeeded" && result.status === "failed") {
    await bounceCaptureRefund(deps, tx, payment, current, result);
    return;
  }
  if (current.captureRefundStatus !== "pending") return;
  const next = await saveAttempt(deps, tx, current, {
    captureRefundStatus: result.status,
    captureRefundReference: result.refundReference || undefined,
  });
  if (result.status === "pending") return;
  if (result.status === "succeeded") {
    const amount = next.capturedAmount ?? next.amount;
    const currency = next.capturedCurrency ?? next.currency;
    await postJournal(
      tx,
      {
        reference: `${captureJournal(next)}:refund`,
        kind: "unowned_capture_refund",
        metadata: {
          paymentId: payment.id,
          psp: next.pspId,
          pspReference: next.pspReference,
          refundReference: result.refundReference,
        },
        postings: owedToBuyer(next.pspId, currency, amount, "returned"),
      },
      deps,
    );
  }
  await appendOutboxEvents(
    tx,
    [
      {
        type: result.status === "succeeded" ? "payment.capture_refunded" : "payment.capture_refund_failed",
        aggregateType: "payment",
        aggregateId: payment.id,
        payload: {
          ...unownedCapturePayload(payment, next),
          failure_reason: result.status === "failed" ? (result.failureReason ?? "psp_failed") : null,
        },
      },
    ],
    deps,
  );
}

/**
 * The automatic refund of an unowned capture failed after it had succeeded (a bank refund that
 * bounced): the PSP holds the money again, so the ledger owes it to the buyer again
 * (`platform:captures_to_return`) and an operator is told (`payment.capture_refund_failed`).
 */
async function bounceCaptureRefund(
  deps: Deps,
  tx: StoreTx,
  payment: Payment,
  current: PaymentAttempt,
  result: RefundResult,
): Promise<void> {
  if (
    result.refundReference &&
    current.captureRefundReference &&
    result.refundReference !== current.captureRefundReference
  )
    return;
  const next = await saveAttempt(deps, tx, current, { captureRefundStatus: "failed" });
  const amount = next.capturedAmount ?? next.amount;
  const currency = next.capturedCurrency ?? next.currency;
  await postJournal(
    tx,
    {
      reference: `${captureJournal(next)}:refund-bounced`,
      kind: "unowned_capture_refund_bounced",
      metadata: {
        paymentId: payment.id,
        psp: next.pspId,
        pspReference: next.pspReference,
        refundReference: next.captureRefundReference ?? "",
      },
      postings: owedToBuyer(next.pspId, currency, amount, "owed"),
    },
    deps,
  );
  await appendOutboxEvents(
    tx,
    [
      {
        type: "payment.capture_refund_failed",
        aggregateType: "payment",
        aggregateId: payment.id,
        payload: {
          ...unownedCapturePayload(payment, next),
          failure_reason: result.failureReason ?? "refund_bounced",
        },
      },
    ],
    deps,
  );
}

const attemptOf = (payload: unknown): { paymentId: string; attempt: number } => {
  const { paymentId, attempt } = (payload ?? {}) as { paymentId?: unknown; attempt?: unknown };
  if (typeof paymentId !== "string" || typeof attempt !== "number") {
    throw new PermanentJobError("job payload has no paymentId and attempt");
  }
  return { paymentId, attempt };
};

/**
 * Job: refunds an unowned capture at the PSP, for the whole amount captured, under a key derived
 * from the attempt (a retry never refunds twice). Retryable and lost answers retry with backoff; a
 * fatal refusal is recorded as a failed refund for an operator. The refund sweeper runs it too, for
 * a refund the PSP never made whose job has ended (see `sweepPendingRefunds`).
 */
export async function refundUnownedCapture(deps: Deps, payload: unknown): Promise<void> {
  const { paymentId, attempt: number } = attemptOf(payload);
  const attempt = await deps.store.transaction((tx) => tx.paymentAttempts.get(paymentId, number));
  if (attempt?.captureRefundStatus !== "pending" || attempt.captureRefundReference) return;
  let result: RefundResult;
  try {
    result = await withPspTimeout(deps, attempt.pspId, () =>
      deps.provider(attempt.pspId).refund({
        pspReference: attempt.pspReference,
        refundId: captureRefundId(attempt),
        amount: attempt.capturedAmount ?? attempt.amount,
        currency: attempt.capturedCurrency ?? attempt.currency,
        reason: "duplicate",
        idempotencyKey: `${paymentId}:capture-refund:${attempt.attempt}`,
      }),
    );
  } catch (error) {
    if (!isPspError(error, "fatal") && !isPspError(error, "declined")) throw error;
    result = { refundReference: "", status: "failed", failureReason: error.pspCode ?? error.code };
  }
  await deps.store.transaction(async (tx) => {
    const current = await tx.paymentAttempts.get(paymentId, number);
    if (current) await completeCaptureRefund(deps, tx, current, result);
  });
}

/** Job: closes the attempts a payment no longer follows (after it followed another one). */
export async function closeSupersededAttempts(deps: Deps, payload: unknown): Promise<void> {
  const paymentId = (payload as { paymentId?: unknown } | null)?.paymentId;
  if (typeof paymentId !== "string") throw new PermanentJobError("job payload has no paymentId");
  await closeAttempts(deps, paymentId, "superseded", true);
}
