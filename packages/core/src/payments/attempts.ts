import type { Checkout } from "../domain/checkout.js";
import type { CheckoutStatus } from "../domain/checkout-status.js";
import type { PaymentAttempt, UnownedCaptureReason } from "../domain/payment-attempt.js";
import type { PaymentOrder } from "../domain/payment-order.js";
import { ErrorCodes, isSettlekitError, SettlekitError } from "../errors.js";
import { enqueueJob, PermanentJobError } from "../jobs/job-runner.js";
import { accounts } from "../ledger/accounts.js";
import { postJournal } from "../ledger/post-journal.js";
import { isCurrencyCode } from "../money/currency.js";
import { appendOutboxEvents } from "../outbox/outbox.js";
import type { JsonObject } from "../ports/json.js";
import type { CanceledHostedPayment, HostedPayment, PspPaymentStatus, RefundResult } from "../ports/psp.js";
import type { StoreTx } from "../ports/store.js";
import { isPspError } from "../runtime/psp-error.js";
import type { Deps } from "./deps.js";
import type { OutcomeDetails } from "./payment-outcome.js";
import { applyPaymentStatus } from "./payment-outcome.js";
import { withPspTimeout } from "./psp-timeout.js";

/** Job: close attempts a payment no longer follows at their PSP (payload `{ checkoutId }`). */
export const CLOSE_ATTEMPTS_JOB = "psp.close_attempts";
/** Job: refund money captured on an attempt no payment order owns (payload `{ checkoutId, attempt }`). */
export const REFUND_CAPTURE_JOB = "psp.refund_capture";

/** Statuses of a payment nobody has paid yet: a capture on any of its attempts pays it. */
const UNPAID: readonly CheckoutStatus[] = ["requires_payment", "processing", "failed"];
/** Attempt statuses in which the buyer can still pay on the attempt's page (it is worth closing). */
const PAYABLE: readonly PspPaymentStatus[] = ["requires_payment", "failed"];

/** The status of the attempt a payment follows, read from the payment's (undefined: its own record says). */
export function followedStatus(status: CheckoutStatus): PspPaymentStatus | undefined {
  if (status === "partially_refunded" || status === "refunded") return "succeeded";
  return status === "created" || status === "requires_review" ? undefined : status;
}

/**
 * Writes the payment's status onto the attempt it follows, as the payment moves to another one
 * (a retry, or money on another page): from then on that record speaks for itself.
 */
export async function settleFollowed(deps: Deps, tx: StoreTx, checkout: Checkout): Promise<void> {
  const status = followedStatus(checkout.status);
  if (!checkout.pspReference || !status) return;
  const attempt = await tx.paymentAttempts.findByPspReference(checkout.pspId, checkout.pspReference);
  if (attempt && !attempt.closedAt && attempt.status !== status)
    await saveAttempt(deps, tx, attempt, { status });
}

/** The attempt record of a registration that was just stored against `checkout`. */
export async function recordAttempt(
  deps: Deps,
  tx: StoreTx,
  checkout: Checkout,
  hosted: Pick<HostedPayment, "pspReference">,
): Promise<void> {
  const now = deps.clock.now();
  await tx.paymentAttempts.insert({
    checkoutId: checkout.id,
    attempt: checkout.attempt,
    pspId: checkout.pspId,
    pspReference: hosted.pspReference,
    amount: checkout.amount,
    currency: checkout.currency,
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
      `Payment attempt ${attempt.checkoutId}#${attempt.attempt} changed concurrently; retry.`,
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
 * Applies a PSP report about one attempt of `checkout` (webhook, poll, cancel answer), whichever
 * attempt it is. The payment follows one attempt (`checkout.pspReference`): the newest until one
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
  checkout: Checkout,
  pspReference: string,
  reported: PspPaymentStatus,
  details: OutcomeDetails = {},
): Promise<{ changed: boolean; checkout: Checkout; orders?: PaymentOrder[] }> {
  // The attempt's own record, with this report on it. The followed attempt's status is the
  // payment's (derivable, so not written on every webhook): it is noted only where its record is
  // needed — what a success put in review captured, a capture after expiry.
  const noted = async () => {
    const attempt = await tx.paymentAttempts.findByPspReference(checkout.pspId, pspReference);
    return attempt ? noteReport(deps, tx, attempt, reported, details) : null;
  };
  if (checkout.pspReference !== pspReference) {
    const attempt = await noted();
    if (!attempt) return { changed: false, checkout };
    if (reported !== "succeeded" && reported !== "processing") return { changed: false, checkout };
    if (UNPAID.includes(checkout.status)) {
      // A transfer in flight on the followed attempt and another one on this: keep following it.
      if (reported === "processing" && checkout.status === "processing") return { changed: false, checkout };
      const applied = await applyPaymentStatus(deps, tx, { ...checkout, pspReference }, reported, details);
      if (applied.changed) {
        await settleFollowed(deps, tx, checkout);
        await queueCloseAttempts(deps, tx, checkout.id);
      }
      return applied;
    }
    if (reported === "succeeded") {
      const reason: UnownedCaptureReason =
        checkout.status === "expired"
          ? "after_expiry"
          : checkout.status === "canceled"
            ? "after_cancel"
            : "superseded";
      await recordUnownedCapture(deps, tx, checkout, attempt, reason);
    }
    return { changed: false, checkout };
  }
  let status = reported;
  let failure = details;
  const now = deps.clock.now();
  if ((reported === "expired" || reported === "canceled") && UNPAID.includes(checkout.status)) {
    if (!checkout.expiresAt || checkout.expiresAt > now) {
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
    const applied = await applyPaymentStatus(deps, tx, checkout, status, failure);
    // A success put in review: an operator who rejects it refunds what the attempt captured.
    if (applied.changed && applied.checkout.status === "requires_review" && reported === "succeeded") {
      await noted();
    }
    return applied;
  } catch (error) {
    if (!isSettlekitError(error, "INVALID_STATE_TRANSITION")) throw error;
    const attempt =
      reported === "succeeded" && (checkout.status === "expired" || checkout.status === "canceled")
        ? await noted()
        : null;
    if (attempt) {
      await recordUnownedCapture(
        deps,
        tx,
        checkout,
        attempt,
        checkout.status === "expired" ? "after_expiry" : "after_cancel",
      );
      return { changed: false, checkout };
    }
    throw error;
  }
}

/** Queues closing, at the PSP, every attempt of the checkout it does not follow that can still be paid. */
export async function queueCloseAttempts(deps: Deps, tx: StoreTx, checkoutId: string): Promise<void> {
  await enqueueJob(
    tx,
    {
      type: CLOSE_ATTEMPTS_JOB,
      payload: { checkoutId },
      dedupeKey: `${CLOSE_ATTEMPTS_JOB}:${checkoutId}:${deps.ids.newId()}`,
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
  checkoutId: string,
  attemptNumber: number,
  answer: CanceledHostedPayment,
): Promise<void> {
  // The checkout's row lock first: every writer of its attempts holds it (webhooks, jobs, sweeper).
  const checkout = await tx.checkouts.get(checkoutId, { forUpdate: true });
  const attempt = await tx.paymentAttempts.get(checkoutId, attemptNumber);
  if (!attempt || !checkout) return;
  if (answer.status === "canceled" || answer.status === "expired") {
    if (attempt.closedAt && attempt.status === answer.status) return;
    if (attempt.status === "succeeded" || attempt.status === "processing") {
      await saveAttempt(deps, tx, attempt, { closedAt: attempt.closedAt ?? deps.clock.now() });
      return;
    }
    await saveAttempt(deps, tx, attempt, { closedAt: deps.clock.now(), status: answer.status });
    return;
  }
  await applyAttemptReport(deps, tx, checkout, attempt.pspReference, answer.status, {
    ...(answer.amount !== undefined ? { amount: answer.amount } : {}),
    ...(answer.currency !== undefined ? { currency: answer.currency } : {}),
  });
}

/**
 * Closes at the PSP the attempts of a checkout that can still be paid — all of them but
 * `keepAttempt` — outside any transaction, and records each answer. Returns false when the PSP
 * said money moved on one of them (the checkout then followed it), true when none can be paid any
 * more. A PSP without `cancelHostedPayment` closes nothing (a capture that still comes is refunded).
 * PSP failures propagate: the caller (a retry, the sweeper, a job) tries again later.
 */
export async function closeAttempts(
  deps: Deps,
  checkoutId: string,
  reason: "superseded" | "expired" | "canceled",
  keepFollowed: boolean,
): Promise<boolean> {
  const { checkout, attempts } = await deps.store.transaction(async (tx) => ({
    checkout: await tx.checkouts.get(checkoutId),
    attempts: await tx.paymentAttempts.listByCheckout(checkoutId),
  }));
  if (!checkout) return true;
  const provider = deps.provider(checkout.pspId);
  if (!provider.capabilities.cancelHostedPayments || !provider.cancelHostedPayment) return true;
  let closed = true;
  for (const attempt of attempts) {
    if (keepFollowed && attempt.pspReference === checkout.pspReference) continue;
    if (attempt.closedAt || !PAYABLE.includes(attempt.status)) {
      if (attempt.status === "processing") closed = false;
      continue;
    }
    const cancel = provider.cancelHostedPayment.bind(provider);
    let answer: CanceledHostedPayment;
    try {
      answer = await withPspTimeout(deps, checkout.pspId, () =>
        cancel({
          pspReference: attempt.pspReference,
          reason,
          idempotencyKey: `${checkoutId}:close:${attempt.attempt}`,
        }),
      );
    } catch (error) {
      // A page the PSP does not know (any more) cannot be paid: it counts as closed.
      if (!isPspError(error, "fatal") || error.code !== "NOT_FOUND") throw error;
      answer = { pspReference: attempt.pspReference, status: "canceled" };
    }
    await deps.store.transaction((tx) => recordCloseAnswer(deps, tx, checkoutId, attempt.attempt, answer));
    if (answer.status !== "canceled" && answer.status !== "expired") closed = false;
  }
  return closed;
}

/** The operator's view of an unowned capture (outbox payloads). */
function captureView(checkout: Checkout, attempt: PaymentAttempt): JsonObject {
  return {
    schema_version: 1,
    checkout_id: checkout.id,
    psp: attempt.pspId,
    psp_reference: attempt.pspReference,
    attempt: attempt.attempt,
    amount: (attempt.capturedAmount ?? attempt.amount).toString(),
    currency: attempt.capturedCurrency ?? attempt.currency,
    reason: attempt.unownedReason ?? null,
    refund_status: attempt.captureRefundStatus ?? null,
    refund_reference: attempt.captureRefundReference ?? null,
  };
}

const captureJournal = (attempt: PaymentAttempt) =>
  `unowned-capture:${attempt.pspId}:${attempt.pspReference}`;

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
  checkout: Checkout,
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
        metadata: { checkoutId: checkout.id, psp: marked.pspId, pspReference: marked.pspReference, reason },
        postings: [
          { account: accounts.pspReceivable(marked.pspId), currency, direction: "debit", amount },
          { account: accounts.platformCapturesToReturn, currency, direction: "credit", amount },
        ],
      },
      deps,
    );
    await enqueueJob(
      tx,
      {
        type: REFUND_CAPTURE_JOB,
        payload: { checkoutId: checkout.id, attempt: marked.attempt },
        dedupeKey: `${REFUND_CAPTURE_JOB}:${checkout.id}:${marked.attempt}`,
        // Money owed to a buyer: retried for long (backoff), then a dead letter an operator sees.
        maxAttempts: 20,
      },
      deps,
    );
  }
  await appendOutboxEvents(
    tx,
    [
      {
        type: "payment.capture_unowned",
        aggregateType: "checkout",
        aggregateId: checkout.id,
        payload: captureView(checkout, marked),
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
  const checkout = await tx.checkouts.get(attempt.checkoutId, { forUpdate: true });
  const current = await tx.paymentAttempts.get(attempt.checkoutId, attempt.attempt);
  if (!checkout || current?.captureRefundStatus !== "pending") return;
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
          checkoutId: checkout.id,
          psp: next.pspId,
          pspReference: next.pspReference,
          refundReference: result.refundReference,
        },
        postings: [
          { account: accounts.platformCapturesToReturn, currency, direction: "debit", amount },
          { account: accounts.pspReceivable(next.pspId), currency, direction: "credit", amount },
        ],
      },
      deps,
    );
  }
  await appendOutboxEvents(
    tx,
    [
      {
        type: result.status === "succeeded" ? "payment.capture_refunded" : "payment.capture_refund_failed",
        aggregateType: "checkout",
        aggregateId: checkout.id,
        payload: {
          ...captureView(checkout, next),
          failure_reason: result.status === "failed" ? (result.failureReason ?? "psp_failed") : null,
        },
      },
    ],
    deps,
  );
}

const attemptOf = (payload: unknown): { checkoutId: string; attempt: number } => {
  const { checkoutId, attempt } = (payload ?? {}) as { checkoutId?: unknown; attempt?: unknown };
  if (typeof checkoutId !== "string" || typeof attempt !== "number") {
    throw new PermanentJobError("job payload has no checkoutId and attempt");
  }
  return { checkoutId, attempt };
};

/**
 * Job: refunds an unowned capture at the PSP, for the whole amount captured, under a key derived
 * from the attempt (a retry never refunds twice). Retryable and lost answers retry with backoff; a
 * fatal refusal is recorded as a failed refund for an operator.
 */
export async function refundUnownedCapture(deps: Deps, payload: unknown): Promise<void> {
  const { checkoutId, attempt: number } = attemptOf(payload);
  const attempt = await deps.store.transaction((tx) => tx.paymentAttempts.get(checkoutId, number));
  if (attempt?.captureRefundStatus !== "pending" || attempt.captureRefundReference) return;
  let result: RefundResult;
  try {
    result = await withPspTimeout(deps, attempt.pspId, () =>
      deps.provider(attempt.pspId).refund({
        pspReference: attempt.pspReference,
        refundId: `rf_capture_${checkoutId.replace(/[^A-Za-z0-9]/g, "")}_${attempt.attempt}`,
        amount: attempt.capturedAmount ?? attempt.amount,
        currency: attempt.capturedCurrency ?? attempt.currency,
        reason: "duplicate",
        idempotencyKey: `${checkoutId}:capture-refund:${attempt.attempt}`,
      }),
    );
  } catch (error) {
    if (!isPspError(error, "fatal") && !isPspError(error, "declined")) throw error;
    result = { refundReference: "", status: "failed", failureReason: error.pspCode ?? error.code };
  }
  await deps.store.transaction(async (tx) => {
    const current = await tx.paymentAttempts.get(checkoutId, number);
    if (current) await completeCaptureRefund(deps, tx, current, result);
  });
}

/** Job: closes the attempts a checkout no longer follows (after it followed another one). */
export async function closeSupersededAttempts(deps: Deps, payload: unknown): Promise<void> {
  const checkoutId = (payload as { checkoutId?: unknown } | null)?.checkoutId;
  if (typeof checkoutId !== "string") throw new PermanentJobError("job payload has no checkoutId");
  await closeAttempts(deps, checkoutId, "superseded", true);
}
