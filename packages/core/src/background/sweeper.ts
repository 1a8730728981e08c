import type { Deps } from "../deps.js";
import type { Payment } from "../domain/payment.js";
import { paymentMachine } from "../domain/payment-status.js";
import { isSettlekitError } from "../errors.js";
import type { PspPaymentStatus } from "../ports/psp.js";
import type { StoreTx } from "../ports/store.js";
import { isPspError } from "../runtime/psp-error.js";
import { applyAttemptReport, closeAttempts } from "../services/payments/attempts.js";
import type { OutcomeDetails } from "../services/payments/payment-outcome.js";
import { recordPaymentChange } from "../services/payments/payment-outcome.js";

export interface SweepResult {
  readonly polled: number;
  readonly changed: number;
  readonly expired: number;
}

const MAX_DEFER_MS = 6 * 3_600_000;

/**
 * The pending sweeper: payments left in `requires_payment` or `processing` for longer than
 * `sweepAfterMs` are polled at their PSP (`retrievePayment`) and the answer applied like a webhook
 * — this is what recovers a dropped webhook. `failed` payments are polled too while their hosted
 * page can still be paid (a buyer may retry on the PSP's page, or send a transfer from it). Unpaid
 * payments past `expiresAt` expire once their pages are closed at the PSP (see `expire`). A poll that changes nothing defers the next one by as long as the payment has been
 * waiting (capped at 6 h), so a long wait costs few PSP calls. Payments a poll moved had no
 * webhook: once per PSP and hour the system's `logger` is warned (a wrong webhook URL or secret).
 */
export async function sweepPendingPayments(deps: Deps, limit = 100): Promise<SweepResult> {
  const now = deps.clock.now();
  const stale = await deps.store.transaction((tx) =>
    tx.payments.listStale({
      statuses: ["requires_payment", "processing", "failed"],
      updatedBefore: new Date(now.getTime() - deps.settings.sweepAfterMs),
      now,
      limit,
    }),
  );
  const result = { polled: 0, changed: 0, expired: 0 };
  // Changes only a poll brought: the PSP moved the payment and no webhook told us (had one
  // arrived, the payment would have moved already), so its webhooks are not getting through.
  const missed = new Map<string, string[]>();
  for (const payment of stale) {
    const remote = await poll(deps, payment);
    if (remote) result.polled++;
    let outcome = await deps.store.transaction(async (tx) => {
      const current = await tx.payments.get(payment.id, { forUpdate: true });
      if (!current || current.version !== payment.version) return "skip"; // moved on meanwhile
      if (remote && current.pspReference) {
        try {
          const applied = await applyAttemptReport(
            deps,
            tx,
            current,
            current.pspReference,
            remote.status,
            remote.details,
          );
          // The PSP closed the page at the deadline itself: that is an expiry, not a missed webhook.
          if (applied.changed) return applied.payment.status === "expired" ? "expired" : "changed";
        } catch (error) {
          if (!isSettlekitError(error, "INVALID_STATE_TRANSITION")) throw error;
        }
      }
      // Unpaid (or failed) and past its deadline: abandoned — once its pages are closed.
      if (current.status !== "processing" && current.expiresAt && current.expiresAt <= now) return "due";
      await defer(tx, current, now);
      return "deferred";
    });
    if (outcome === "due") outcome = await expire(deps, payment.id, now);
    if (outcome === "changed") {
      result.changed++;
      missed.set(payment.pspId, [...(missed.get(payment.pspId) ?? []), payment.id]);
    }
    if (outcome === "expired") result.expired++;
  }
  for (const [pspId, paymentIds] of missed) deps.missedWebhooks.record(pspId, paymentIds, now);
  return result;
}

/** The next poll waits as long as the payment has been waiting (capped at 6 h). */
async function defer(tx: StoreTx, current: Payment, now: Date): Promise<void> {
  const waited = now.getTime() - current.updatedAt.getTime();
  await tx.payments.deferCheck(
    current.id,
    new Date(now.getTime() + Math.min(Math.max(waited, 1), MAX_DEFER_MS)),
  );
}

/**
 * Expires an abandoned payment: first every page it still has is closed at the PSP (so a buyer
 * cannot pay after it expired); a PSP that answers that money moved there (paid, or a transfer in
 * flight) moves the payment instead, and it is not expired. A PSP that cannot be reached now
 * leaves it for a later sweep: nothing expires while a page may still be paid. A payment with an
 * attempt in flight at the PSP is never expired.
 */
async function expire(deps: Deps, paymentId: string, now: Date): Promise<"expired" | "changed" | "deferred"> {
  let closed: boolean;
  try {
    closed = await closeAttempts(deps, paymentId, "expired", false);
  } catch (error) {
    if (!isPspError(error)) throw error;
    closed = false;
  }
  return deps.store.transaction(async (tx) => {
    const current = await tx.payments.get(paymentId, { forUpdate: true });
    if (!current) return "deferred";
    const unpaid = current.status === "requires_payment" || current.status === "failed";
    // Expired meanwhile by the PSP's own report of the close, or moved on by what the PSP answered.
    if (!unpaid) return current.status === "expired" ? "expired" : "changed";
    const inFlight = (await tx.paymentAttempts.listByPayment(paymentId)).some(
      (a) => a.status === "processing",
    );
    if (!closed || inFlight || !current.expiresAt || current.expiresAt > now) {
      await defer(tx, current, now);
      return "deferred";
    }
    await recordPaymentChange(deps, tx, {
      ...current,
      status: paymentMachine.transition(current.status, "expire"),
      failureReason: current.failureReason ?? "expired",
      version: current.version + 1,
      updatedAt: deps.clock.now(),
    });
    return "expired";
  });
}

/** The PSP's view of the payment's current attempt, or undefined when it cannot be had now. */
async function poll(
  deps: Deps,
  payment: Payment,
): Promise<{ status: PspPaymentStatus; details: OutcomeDetails } | undefined> {
  if (!payment.pspReference) return undefined;
  try {
    const remote = await deps.provider(payment.pspId).retrievePayment({ pspReference: payment.pspReference });
    // The amount and currency go along: applyPaymentStatus checks them like a webhook's.
    const details = { amount: remote.amount, currency: remote.currency };
    return {
      status: remote.status,
      details: remote.failureCode ? { ...details, failureCode: remote.failureCode } : details,
    };
  } catch {
    return undefined; // the PSP is unreachable now: a later sweep tries again
  }
}
