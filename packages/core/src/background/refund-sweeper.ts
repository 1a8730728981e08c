import type { Deps } from "../deps.js";
import type { Refund } from "../domain/refund.js";
import { isSettlekitError } from "../errors.js";
import type { RetrievedRefund } from "../ports/psp.js";
import type { StoreTx } from "../ports/store.js";
import { isPspError } from "../runtime/psp-error.js";
import { withPspTimeout } from "../services/psp-timeout.js";
import type { PspRefundEvent } from "../services/refunds/external-refunds.js";
import { applyRefundEvent } from "../services/refunds/external-refunds.js";
import { completeRefund } from "../services/refunds/refunds.js";

export interface RefundSweepResult {
  /** Refunds whose PSP answered the poll (found or not). */
  readonly polled: number;
  /** Of those, refunds the poll settled (`succeeded` or `failed`). */
  readonly settled: number;
}

const MAX_DEFER_MS = 6 * 3_600_000;

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
 */
export async function sweepPendingRefunds(deps: Deps, limit = 50): Promise<RefundSweepResult> {
  const now = deps.clock.now();
  const stale = await deps.store.transaction((tx) =>
    tx.refunds.listStale({
      updatedBefore: new Date(now.getTime() - deps.settings.refundSweepAfterMs),
      now,
      limit,
    }),
  );
  const result = { polled: 0, settled: 0 };
  for (const refund of stale) {
    const waited = now.getTime() - refund.updatedAt.getTime();
    const until = new Date(now.getTime() + Math.min(Math.max(waited, 1), MAX_DEFER_MS));
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
          .catch((error: unknown) => {
            if (!isSettlekitError(error, "STORE_CONFLICT")) throw error;
          });
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
  return result;
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
  const event: PspRefundEvent = {
    kind: "refund",
    eventId: `poll:${remote.refundReference}:${remote.status}`,
    pspReference,
    refundReference: remote.refundReference,
    ...(remote.refundId ? { refundId: remote.refundId } : {}),
    status: remote.status,
    ...(remote.failureReason ? { failureReason: remote.failureReason } : {}),
    amount: remote.amount,
    currency: remote.currency,
    occurredAt: deps.clock.now(),
  };
  await applyRefundEvent(deps, tx, pspId, event);
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
