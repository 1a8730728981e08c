import { ALERT_DELIVER_JOB, deliverAlert } from "../alerts/plan-alert.js";
import type { Deps } from "../deps.js";
import { nextAction } from "../domain/next-action.js";
import { ErrorCodes, SettlekitError } from "../errors.js";
import type { JobHandler, JobLease } from "../jobs/job-runner.js";
import { PermanentJobError } from "../jobs/job-runner.js";
import type { Job } from "../ports/jobs.js";
import type { BuyerNotification } from "../ports/notifier.js";
import type { PaymentProvider } from "../ports/psp.js";
import { isPspError } from "../runtime/psp-error.js";
import {
  CLOSE_ATTEMPTS_JOB,
  closeSupersededAttempts,
  REFUND_CAPTURE_JOB,
  refundUnownedCapture,
} from "../services/payments/attempts.js";
import {
  failRegistration,
  REGISTER_JOB,
  recordRegistration,
  registerWithPsp,
} from "../services/payments/registration.js";
import { retryPayment } from "../services/payments/retry-payment.js";
import { failClawbackForJob, PAYOUT_CLAWBACK_JOB, runClawback } from "../services/payouts/clawbacks.js";
import {
  failPayoutForJob,
  PAYOUT_CHECK_JOB,
  PAYOUT_RESERVE_JOB,
  PAYOUT_SEND_JOB,
  reservePayouts,
  sendPayout,
} from "../services/payouts/payouts.js";
import { withPspTimeout } from "../services/psp-timeout.js";
import { REFUND_JOB, sendRefund } from "../services/refunds/refunds.js";

/** Failure reason of a payment whose registration exhausted its retries. */
export const PSP_UNAVAILABLE = "psp_unavailable";

const paymentIdOf = (job: Job): string => {
  const id = (job.payload as { paymentId?: unknown } | null)?.paymentId;
  if (typeof id !== "string") throw new PermanentJobError(`job ${job.id} has no paymentId`);
  return id;
};

/** Retries a PSP registration that failed with a retryable error (same PSP idempotency key). */
const register =
  (deps: Deps): JobHandler =>
  async (job) => {
    const paymentId = paymentIdOf(job);
    const { payment, orders } = await deps.store.transaction(async (tx) => ({
      payment: await tx.payments.get(paymentId),
      orders: await tx.paymentOrders.listByPayment(paymentId),
    }));
    // An operator replaying a dead-lettered registration: the payment failed for it, so the
    // replay is a new attempt.
    if (payment?.status === "failed" && payment.failureReason === PSP_UNAVAILABLE) {
      await retryPayment(deps, paymentId);
      return;
    }
    if (payment?.status !== "created") return; // done by someone else meanwhile
    let hosted: Awaited<ReturnType<typeof registerWithPsp>>;
    try {
      hosted = await withPspTimeout(deps, payment.pspId, () => registerWithPsp(deps, payment, orders));
    } catch (error) {
      if (isPspError(error, "fatal") || isPspError(error, "declined")) {
        const reason = `psp_rejected:${error.pspCode ?? error.code}`;
        await deps.store.transaction((tx) => failRegistration(deps, tx, paymentId, reason));
        throw new PermanentJobError(reason);
      }
      throw error;
    }
    await deps.store.transaction((tx) => recordRegistration(deps, tx, paymentId, hosted));
  };

/** Sends the buyer email for the status the job was queued for. */
const notify =
  (deps: Deps, kind: BuyerNotification["kind"]): JobHandler =>
  async (job) => {
    const notifier = deps.options.notifier;
    if (!notifier) return;
    const paymentId = paymentIdOf(job);
    const { payment, orders } = await deps.store.transaction(async (tx) => ({
      payment: await tx.payments.get(paymentId),
      orders: await tx.paymentOrders.listByPayment(paymentId),
    }));
    if (!payment) throw new PermanentJobError(`no payment ${paymentId}`);
    const base = { notificationId: job.id, paymentId, buyerId: payment.buyerId };
    if (kind === "payment_succeeded") {
      const estimatedDeliveryAt =
        payment.estimatedDeliveryAt ?? deps.options.estimateDelivery?.(payment, orders);
      await notifier.notify({
        ...base,
        kind,
        amount: payment.amount,
        currency: payment.currency,
        ...(estimatedDeliveryAt ? { estimatedDeliveryAt } : {}),
      });
    } else if (kind === "payment_pending") {
      const action = nextAction(payment);
      await notifier.notify({
        ...base,
        kind,
        ...(action.type === "wait" ? { actionRequired: action.message } : {}),
      });
    } else {
      await notifier.notify({ ...base, kind, reason: payment.failureReason ?? "payment_failed" });
    }
  };

const payoutIdOf = (job: Job): string => {
  const id = (job.payload as { payoutId?: unknown } | null)?.payoutId;
  if (typeof id !== "string") throw new PermanentJobError(`job ${job.id} has no payoutId`);
  return id;
};

/** Tells the seller a payout was paid, or failed and why. */
const notifySeller =
  (deps: Deps, kind: "payout_paid" | "payout_failed"): JobHandler =>
  async (job) => {
    const notifier = deps.options.notifier;
    if (!notifier) return;
    const payoutId = payoutIdOf(job);
    const payout = await deps.store.transaction((tx) => tx.payouts.get(payoutId), { readOnly: true });
    if (!payout) throw new PermanentJobError(`no payout ${payoutId}`);
    const base = {
      notificationId: job.id,
      payoutId,
      sellerId: payout.sellerId,
      amount: payout.amount,
      currency: payout.currency,
    };
    if (kind === "payout_paid") await notifier.notify({ ...base, kind });
    else
      await notifier.notify({
        ...base,
        kind,
        reason: payout.failureCode ?? "payout_failed",
        message: payout.failureMessage ?? "The payout failed.",
      });
  };

/** The PSP calls that act at the PSP (money moved, a page opened or closed). */
const PSP_SIDE_EFFECTS: ReadonlySet<string> = new Set([
  "createHostedPayment",
  "cancelHostedPayment",
  "refund",
  "payout",
  "reversePayout",
]);

/**
 * `deps` whose PSPs check the job's lease before every side effect: a handler that lost its
 * lease (another worker took the job over while this one was paused) throws LEASE_LOST instead
 * of acting at the PSP, and the runner counts the job as lost to its new holder.
 */
function fenced(deps: Deps, lease: JobLease): Deps {
  const guard = (provider: PaymentProvider): PaymentProvider =>
    new Proxy(provider, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (typeof value !== "function" || typeof key !== "string" || !PSP_SIDE_EFFECTS.has(key))
          return typeof value === "function" ? value.bind(target) : value;
        return async (...args: unknown[]) => {
          if (!(await lease.held())) throw jobLeaseLost();
          return value.apply(target, args);
        };
      },
    });
  return Object.assign(Object.create(deps) as Deps, { provider: (id: string) => guard(deps.provider(id)) });
}

const jobLeaseLost = () =>
  new SettlekitError(
    ErrorCodes.LEASE_LOST,
    "The job's lease was lost (another worker took it over); nothing was sent to the PSP.",
  );

/**
 * The job handlers of the cash-in flow, by job type. Run by the job runner, each one's PSP side
 * effects are fenced by its lease (see {@link fenced}).
 */
export function paymentJobHandlers(deps: Deps): Record<string, JobHandler> {
  const handlers = handlersOn(deps);
  const fencedHandlers: Record<string, JobHandler> = {};
  for (const type of Object.keys(handlers)) {
    fencedHandlers[type] = (job, lease) =>
      lease ? handlersOn(fenced(deps, lease))[type]!(job, lease) : handlers[type]!(job);
  }
  return fencedHandlers;
}

function handlersOn(deps: Deps): Record<string, JobHandler> {
  return {
    [REGISTER_JOB]: register(deps),
    [REFUND_JOB]: async (job) => {
      const refundId = (job.payload as { refundId?: unknown } | null)?.refundId;
      if (typeof refundId !== "string") throw new PermanentJobError(`job ${job.id} has no refundId`);
      await sendRefund(deps, refundId);
    },
    [CLOSE_ATTEMPTS_JOB]: (job) => closeSupersededAttempts(deps, job.payload),
    [REFUND_CAPTURE_JOB]: (job) => refundUnownedCapture(deps, job.payload),
    "notify.payment_succeeded": notify(deps, "payment_succeeded"),
    "notify.payment_pending": notify(deps, "payment_pending"),
    "notify.payment_failed": notify(deps, "payment_failed"),
    [PAYOUT_RESERVE_JOB]: async (job) => {
      const sellerId = (job.payload as { sellerId?: unknown } | null)?.sellerId;
      if (typeof sellerId !== "string") throw new PermanentJobError(`job ${job.id} has no sellerId`);
      // Its send jobs are due from this job's due time: sent before later sellers are reserved.
      await reservePayouts(deps, { sellerId, trigger: "scheduled", sendAt: job.runAt });
    },
    [PAYOUT_SEND_JOB]: async (job) => {
      await sendPayout(deps, payoutIdOf(job));
    },
    [PAYOUT_CHECK_JOB]: async (job) => {
      await sendPayout(deps, payoutIdOf(job));
    },
    [PAYOUT_CLAWBACK_JOB]: (job) => runClawback(deps, job),
    "notify.payout_paid": notifySeller(deps, "payout_paid"),
    "notify.payout_failed": notifySeller(deps, "payout_failed"),
    [ALERT_DELIVER_JOB]: deliverAlert(deps),
  };
}

/**
 * When a job is dead-lettered: an undelivered alert is logged; a registration that never got through
 * fails its payment; a payout that never got through is released; a clawback that never got through
 * falls back to netting.
 */
export async function onJobDead(deps: Deps, job: Job, error?: unknown): Promise<void> {
  if (job.type === PAYOUT_CLAWBACK_JOB) return failClawbackForJob(deps, job, error);
  // An alert nobody received: say so where the host looks (the job stays in the dead letters).
  if (job.type === ALERT_DELIVER_JOB) {
    const alertId = (job.payload as { alert_id?: unknown } | null)?.alert_id;
    deps.logger.error(
      "An operator alert could not be delivered; replay its dead letter once the sink works.",
      {
        jobId: job.id,
        alertId: typeof alertId === "string" ? alertId : null,
        lastError: job.lastError,
      },
    );
    return;
  }
  // A payout the PSP never took: its money goes back to the seller's available balance.
  if (job.type === PAYOUT_SEND_JOB) return failPayoutForJob(deps, payoutIdOf(job));
  if (job.type !== REGISTER_JOB) return;
  await deps.store.transaction((tx) => failRegistration(deps, tx, paymentIdOf(job), PSP_UNAVAILABLE));
}
