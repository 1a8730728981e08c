import type { Deps } from "../deps.js";
import type { PaymentAttempt } from "../domain/payment-attempt.js";
import type { Refund } from "../domain/refund.js";
import { isSettlekitError } from "../errors.js";
import type { RetrievedRefund } from "../ports/psp.js";
import type { StoreTx } from "../ports/store.js";
import { isPspError } from "../runtime/psp-error.js";
import {
  captureRefundId,
  completeCaptureRefund,
  enqueueCaptureRefund,
  refundUnownedCapture,
} from "../services/payments/attempts.js";
import { withPspTimeout } from "../services/psp-timeout.js";
import type { PspRefundEvent } from "../services/refunds/external-refunds.js";
import { applyRefundEvent } from "../services/refunds/external-refunds.js";
import { completeRefund } from "../services/refunds/refunds.js";

export interface RefundSweepResult {
  /**
   * Refunds (settlekit's, and the automatic refunds of unowned captures) whose PSP answered the
   * poll (found or not).
   */
  readonly polled: number;
  /** Of those, refunds the poll settled (`succeeded` or `failed`). */
  readonly settled: number;
  /** Of `settled`, automatic refunds of unowned captures. */
  readonly capturesSettled: number;
}

const MAX_DEFER_MS = 6 * 3_600_000;

/** Until when a check is claimed: as long again as the refund has waited (at least 1 ms, at most 6 h). */
const claimUntil = (now: Date, updatedAt: Date): Date =>
  new Date(now.getTime() + Math.min(Math.max(now.getTime() - updatedAt.getTime(), 1), MAX_DEFER_MS));

/** A settle that lost to its webhook or its PSP answer (STORE_CONFLICT): nothing left to do. */
const unlessSettledMeanwhile = (error: unknown): undefined => {
  if (!isSettlekitError(error, "STORE_CONFLICT")) throw error;
  return undefined;
};

/**
 * The refund sweeper: refunds left `pending` for longer than `refundSweepAfterMs` are polled at
 * their PSP (`retrieveRefund`) — what recovers a refund whose webhook was lost, and a `refund`
 * call whose answer was lost (then found by settlekit's refund id). Each refund's check is claimed
 * first (`claimCheck`, one worker wins), until as long again as it has been waiting (at most 6 h):
 * that claim is both the lease on the poll and the backoff before the next, so a refund still
 * pending at the PSP costs few calls and nothing spins. The PSP's answer goes through the refund
 * webhook's own code: a refund the PSP answered is {@link applyRefundEvent} with the PSP's status,
 * as its webhook would be (a late webhook then changes nothing; a `failed` after `succeeded`
 * still reverses it); a refund whose answer was lost is completed as that answer would have
 * ({@link completeRefund}). A PSP that holds no refund under settlekit's id never made it: the
 * refund's retry job sends it (or, dead-lettered, an operator), so the sweeper leaves it.
 *
 * The automatic refunds of unowned captures (an attempt's `captureRefundStatus` left `pending`)
 * are polled the same way in the same pass, claimed per attempt
 * (`paymentAttempts.claimCaptureRefundCheck`, the same backoff): by their PSP reference when the
 * PSP answered, else by settlekit's refund id ({@link captureRefundId}); the answer is applied as
 * its webhook or its lost answer would have been ({@link completeCaptureRefund}: `succeeded`
 * takes the money out of `platform:captures_to_return`, `failed` leaves it owed for an operator
 * with `payment.capture_refund_failed`, `pending` keeps the reference learnt). A PSP that holds no
 * such refund never made it, and that money is owed to a buyer: its job sends it while the job is
 * queued or running (the job is enqueued again if it is missing); once the job has ended — dead-
 * lettered after its retries, or done without an answer — the sweeper sends the refund itself,
 * through the job's own code and under the same idempotency key, so it is never left unsent.
 */
export async function sweepPendingRefunds(deps: Deps, limit = 50): Promise<RefundSweepResult> {
  const now = deps.clock.now();
  const updatedBefore = new Date(now.getTime() - deps.settings.refundSweepAfterMs);
  const stale = await deps.store.transaction((tx) => tx.refunds.listStale({ updatedBefore, now, limit }));
  const result = { polled: 0, settled: 0, capturesSettled: 0 };
  for (const refund of stale) {
    const until = claimUntil(now, refund.updatedAt);
    const claimed = await deps.store.transaction((tx) =>
      tx.refunds.claimCheck({ id: refund.id, now, until }),
    );
    if (!claimed) continue; // another worker polls it, or it moved on meanwhile
    const polled = await poll(deps, refund);
    if (polled === undefined) continue; // unreachable now: the claim is the backoff
    result.polled++;
    if (polled.remote === null || polled.remote.status === "pending") {
      // Still pending: only a reference learnt here is worth keeping (the answer that was lost).
      if (polled.remote && !refund.pspRefundReference) {
        const remote = polled.remote;
        await deps.store
          .transaction((tx) => settle(deps, tx, polled.pspId, polled.pspReference, refund, remote))
          .catch(unlessSettledMeanwhile);
      }
      continue;
    }
    const remote = polled.remote;
    try {
      const after = await deps.store.transaction((tx) =>
        settle(deps, tx, polled.pspId, polled.pspReference, refund, remote),
      );
      if (after && after.status !== "pending") result.settled++;
    } catch (error) {
      // Its webhook or its PSP answer settled it meanwhile: nothing left to do here.
      if (!isSettlekitError(error, "STORE_CONFLICT")) throw error;
    }
  }
  // TEST ONLY (`testOnlyReintroducedBugs.captureRefundsNotPolled`): the fixed bug that left them pending.
  if (deps.options.testOnlyReintroducedBugs?.captureRefundsNotPolled === true) return result;
  const captures = await deps.store.transaction((tx) =>
    tx.paymentAttempts.listStaleCaptureRefunds({ updatedBefore, now, limit }),
  );
  for (const attempt of captures) {
    const claimed = await deps.store.transaction((tx) =>
      tx.paymentAttempts.claimCaptureRefundCheck({
        paymentId: attempt.paymentId,
        attempt: attempt.attempt,
        now,
        until: claimUntil(now, attempt.updatedAt),
      }),
    );
    if (!claimed) continue; // another worker polls it, or it moved on meanwhile
    const outcome = await sweepCaptureRefund(deps, attempt);
    if (outcome === undefined) continue; // unreachable now: the claim is the backoff
    result.polled++;
    if (outcome === "pending") continue;
    result.settled++;
    result.capturesSettled++;
  }
  return result;
}

/**
 * One poll of the automatic refund of an unowned capture (see {@link sweepPendingRefunds}): where
 * it stands afterwards here, or undefined when the PSP could not be asked (or could not be sent the
 * refund) now.
 */
async function sweepCaptureRefund(
  deps: Deps,
  attempt: PaymentAttempt,
): Promise<"pending" | "succeeded" | "failed" | undefined> {
  let remote: RetrievedRefund | null;
  try {
    remote = await withPspTimeout(deps, attempt.pspId, () =>
      deps.provider(attempt.pspId).retrieveRefund({
        pspReference: attempt.pspReference,
        ...(attempt.captureRefundReference
          ? { refundReference: attempt.captureRefundReference }
          : { refundId: captureRefundId(attempt) }),
        currency: attempt.capturedCurrency ?? attempt.currency,
      }),
    );
  } catch (error) {
    if (!isPspError(error)) throw error;
    return undefined; // a later sweep, after the claim's backoff, asks again
  }
  const statusNow = async () =>
    (await deps.store.transaction((tx) => tx.paymentAttempts.get(attempt.paymentId, attempt.attempt)))
      ?.captureRefundStatus ?? "pending";
  if (remote === null) {
    // The PSP knows the refund it answered with a reference: polled again after the backoff.
    if (attempt.captureRefundReference) return "pending";
    // Never made. Its job sends it, unless the job has ended (or is missing: enqueued again).
    const { job, created } = await deps.store.transaction((tx) => enqueueCaptureRefund(deps, tx, attempt));
    if (created || job.status === "queued" || job.status === "running") return "pending";
    try {
      await refundUnownedCapture(deps, job.payload);
    } catch (error) {
      if (isPspError(error)) return undefined; // not sent now: after the backoff
      unlessSettledMeanwhile(error);
    }
    return statusNow();
  }
  const found = remote;
  if (found.status === "pending" && attempt.captureRefundReference) return "pending";
  await deps.store.transaction((tx) => settleCapture(deps, tx, attempt, found)).catch(unlessSettledMeanwhile);
  return statusNow();
}

/** The PSP's answer about an automatic capture refund, applied in one transaction. */
async function settleCapture(
  deps: Deps,
  tx: StoreTx,
  attempt: PaymentAttempt,
  remote: RetrievedRefund,
): Promise<void> {
  const current = await tx.paymentAttempts.get(attempt.paymentId, attempt.attempt);
  if (current?.captureRefundStatus !== "pending") return; // a webhook or the answer came first
  const result = {
    refundReference: remote.refundReference,
    status: remote.status,
    ...(remote.failureReason ? { failureReason: remote.failureReason } : {}),
  };
  // The answer to the refund call, lost on the way: this poll is that answer.
  if (!current.captureRefundReference) return completeCaptureRefund(deps, tx, current, result);
  await applyRefundEvent(deps, tx, current.pspId, pollEvent(current.pspReference, remote, deps.clock.now()));
}

/** The PSP's answer to a poll as the refund webhook it stands for (its event id names the poll). */
function pollEvent(pspReference: string, remote: RetrievedRefund, at: Date): PspRefundEvent {
  return {
    kind: "refund",
    eventId: `poll:${remote.refundReference}:${remote.status}`,
    pspReference,
    refundReference: remote.refundReference,
    ...(remote.refundId ? { refundId: remote.refundId } : {}),
    status: remote.status,
    ...(remote.failureReason ? { failureReason: remote.failureReason } : {}),
    amount: remote.amount,
    currency: remote.currency,
    occurredAt: at,
  };
}

/** The PSP's answer, applied in one transaction; the refund as it is afterwards. */
async function settle(
  deps: Deps,
  tx: StoreTx,
  pspId: string,
  pspReference: string,
  refund: Refund,
  remote: RetrievedRefund,
): Promise<Refund | null> {
  const current = await tx.refunds.get(refund.id);
  if (current?.status !== "pending") return current; // a webhook or the answer came first
  if (!current.pspRefundReference) {
    // The answer to settlekit's own `refund` call, lost on the way: this poll is that answer.
    return completeRefund(deps, tx, current.id, {
      refundReference: remote.refundReference,
      status: remote.status,
      ...(remote.failureReason ? { failureReason: remote.failureReason } : {}),
    });
  }
  await applyRefundEvent(deps, tx, pspId, pollEvent(pspReference, remote, deps.clock.now()));
  return tx.refunds.get(refund.id);
}

/**
 * The PSP's view of the refund (null: it holds none), or undefined when it cannot be had now (an
 * unreachable PSP, a payment without a PSP reference).
 */
async function poll(
  deps: Deps,
  refund: Refund,
): Promise<{ pspId: string; pspReference: string; remote: RetrievedRefund | null } | undefined> {
  const payment = await deps.store.transaction((tx) => tx.payments.get(refund.paymentId));
  if (!payment?.pspReference) return undefined;
  const pspReference = payment.pspReference;
  try {
    const remote = await withPspTimeout(deps, payment.pspId, () =>
      deps.provider(payment.pspId).retrieveRefund({
        pspReference,
        ...(refund.pspRefundReference
          ? { refundReference: refund.pspRefundReference }
          : refund.origin === "external"
            ? {}
            : { refundId: refund.id }),
        currency: refund.currency,
      }),
    );
    return { pspId: payment.pspId, pspReference, remote };
  } catch (error) {
    if (!isPspError(error)) throw error;
    return undefined; // a later sweep, after the claim's backoff, asks again
  }
}
