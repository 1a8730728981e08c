import type { JobHandler } from "../jobs/job-runner.js";
import { PermanentJobError } from "../jobs/job-runner.js";
import type { Job } from "../ports/jobs.js";
import type { BuyerNotification } from "../ports/notifier.js";
import { isPspError } from "../runtime/psp-error.js";
import {
  CLOSE_ATTEMPTS_JOB,
  closeSupersededAttempts,
  REFUND_CAPTURE_JOB,
  refundUnownedCapture,
} from "./attempts.js";
import { nextAction } from "./checkout-view.js";
import type { Deps } from "./deps.js";
import { withPspTimeout } from "./psp-timeout.js";
import { REFUND_JOB, sendRefund } from "./refunds.js";
import { failRegistration, REGISTER_JOB, recordRegistration, registerWithPsp } from "./registration.js";
import { retryPayment } from "./retry-payment.js";

/** Failure reason of a checkout whose registration exhausted its retries. */
export const PSP_UNAVAILABLE = "psp_unavailable";

const checkoutIdOf = (job: Job): string => {
  const id = (job.payload as { checkoutId?: unknown } | null)?.checkoutId;
  if (typeof id !== "string") throw new PermanentJobError(`job ${job.id} has no checkoutId`);
  return id;
};

/** Retries a PSP registration that failed with a retryable error (same PSP idempotency key). */
const register =
  (deps: Deps): JobHandler =>
  async (job) => {
    const checkoutId = checkoutIdOf(job);
    const { checkout, orders } = await deps.store.transaction(async (tx) => ({
      checkout: await tx.checkouts.get(checkoutId),
      orders: await tx.paymentOrders.listByCheckout(checkoutId),
    }));
    // An operator replaying a dead-lettered registration: the checkout failed for it, so the
    // replay is a new attempt.
    if (checkout?.status === "failed" && checkout.failureReason === PSP_UNAVAILABLE) {
      await retryPayment(deps, checkoutId);
      return;
    }
    if (checkout?.status !== "created") return; // done by someone else meanwhile
    let hosted: Awaited<ReturnType<typeof registerWithPsp>>;
    try {
      hosted = await withPspTimeout(deps, checkout.pspId, () => registerWithPsp(deps, checkout, orders));
    } catch (error) {
      if (isPspError(error, "fatal") || isPspError(error, "declined")) {
        const reason = `psp_rejected:${error.pspCode ?? error.code}`;
        await deps.store.transaction((tx) => failRegistration(deps, tx, checkoutId, reason));
        throw new PermanentJobError(reason);
      }
      throw error;
    }
    await deps.store.transaction((tx) => recordRegistration(deps, tx, checkoutId, hosted));
  };

/** Sends the buyer email for the status the job was queued for. */
const notify =
  (deps: Deps, kind: BuyerNotification["kind"]): JobHandler =>
  async (job) => {
    const notifier = deps.options.notifier;
    if (!notifier) return;
    const checkoutId = checkoutIdOf(job);
    const { checkout, orders } = await deps.store.transaction(async (tx) => ({
      checkout: await tx.checkouts.get(checkoutId),
      orders: await tx.paymentOrders.listByCheckout(checkoutId),
    }));
    if (!checkout) throw new PermanentJobError(`no checkout ${checkoutId}`);
    const base = { notificationId: job.id, checkoutId, buyerId: checkout.buyerId };
    if (kind === "payment_succeeded") {
      const estimatedDeliveryAt =
        checkout.estimatedDeliveryAt ?? deps.options.estimateDelivery?.(checkout, orders);
      await notifier.notify({
        ...base,
        kind,
        amount: checkout.amount,
        currency: checkout.currency,
        ...(estimatedDeliveryAt ? { estimatedDeliveryAt } : {}),
      });
    } else if (kind === "payment_pending") {
      const action = nextAction(checkout);
      await notifier.notify({
        ...base,
        kind,
        ...(action.type === "wait" ? { actionRequired: action.message } : {}),
      });
    } else {
      await notifier.notify({ ...base, kind, reason: checkout.failureReason ?? "payment_failed" });
    }
  };

/** The job handlers of the cash-in flow, by job type. */
export function paymentJobHandlers(deps: Deps): Record<string, JobHandler> {
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
  };
}

/** When a job is dead-lettered: a registration that never got through fails its checkout. */
export async function onJobDead(deps: Deps, job: Job): Promise<void> {
  if (job.type !== REGISTER_JOB) return;
  await deps.store.transaction((tx) => failRegistration(deps, tx, checkoutIdOf(job), PSP_UNAVAILABLE));
}
