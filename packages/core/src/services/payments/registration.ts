import type { Deps } from "../../deps.js";
import type { Payment } from "../../domain/payment.js";
import type { PaymentOrder } from "../../domain/payment-order.js";
import { paymentMachine } from "../../domain/payment-status.js";
import { ErrorCodes, SettlekitError } from "../../errors.js";
import { enqueueJob } from "../../jobs/job-runner.js";
import type { HostedPayment } from "../../ports/psp.js";
import type { StoreTx } from "../../ports/store.js";
import { applyAttemptReport, recordAttempt } from "./attempts.js";
import { recordPaymentChange, tryRecordPaymentChange } from "./payment-outcome.js";

export const REGISTER_JOB = "psp.register";

/** A payment after a registration step, with its orders when the step already loaded them. */
export interface RecordedPayment {
  readonly payment: Payment;
  readonly orders?: PaymentOrder[];
}

/** The PSP idempotency key of a payment's n-th payment attempt: the same attempt never registers twice. */
export const registrationKey = (paymentId: string, attempt: number) => `${paymentId}:register:${attempt}`;

/**
 * Phase 2 of payment creation: registers the payment with its PSP, outside any transaction.
 * The idempotency key is derived from the payment and attempt, so a repeat (crash recovery,
 * job retry) gets the same hosted payment back.
 */
export async function registerWithPsp(
  deps: Deps,
  payment: Payment,
  orders: readonly PaymentOrder[],
): Promise<HostedPayment> {
  return deps.provider(payment.pspId).createHostedPayment({
    paymentId: payment.id,
    amount: payment.amount,
    currency: payment.currency,
    method: payment.method,
    orders: orders.map((o) => ({
      paymentOrderId: o.id,
      sellerId: o.sellerId,
      amount: o.amount,
      ...(o.description ? { description: o.description } : {}),
    })),
    successUrl: payment.successUrl,
    cancelUrl: payment.cancelUrl,
    createdAt: payment.createdAt,
    ...(payment.expiresAt ? { expiresAt: payment.expiresAt } : {}),
    buyerId: payment.buyerId,
    metadata: Object.fromEntries(
      Object.entries(payment.metadata).filter(([k]) => !k.startsWith("settlekit.")),
    ),
    idempotencyKey: registrationKey(payment.id, payment.attempt),
  });
}

/**
 * Phase 3: stores the PSP's token and page against the payment and moves it to
 * `requires_payment` (then on, if the PSP already reports more). A payment that moved on
 * meanwhile (registered by a racing job, expired) is left as it is. `known`: the payment and
 * orders as phase 1 wrote them; while the stored payment is still at that version its orders
 * are too (every order change comes with a payment change), so they are not read again.
 */
export async function recordRegistration(
  deps: Deps,
  tx: StoreTx,
  paymentId: string,
  hosted: HostedPayment,
  known?: { readonly payment: Payment; readonly orders: readonly PaymentOrder[] },
): Promise<RecordedPayment> {
  const register = (payment: Payment): Payment => ({
    ...payment,
    status: paymentMachine.transition(payment.status, "register"),
    pspReference: hosted.pspReference,
    redirectUrl: hosted.redirectUrl,
    version: payment.version + 1,
    updatedAt: deps.clock.now(),
  });
  let recorded: { registered: Payment; orders: PaymentOrder[] } | undefined;
  if (known?.payment.status === "created") {
    // Optimistic: the payment as phase 1 wrote it. The compare-and-set update proves it is still
    // that version (then its orders are too: every order change comes with a payment change)
    // and saves reading it back; if something moved it meanwhile, nothing was written.
    const registered = register(known.payment);
    const orders = await tryRecordPaymentChange(deps, tx, registered, known.orders);
    if (orders) recorded = { registered, orders };
  }
  if (!recorded) {
    const payment = await tx.payments.get(paymentId, { forUpdate: true });
    if (!payment) throw new SettlekitError(ErrorCodes.NOT_FOUND, `No payment ${paymentId}.`);
    if (payment.status !== "created") return { payment };
    const registered = register(payment);
    recorded = { registered, orders: await recordPaymentChange(deps, tx, registered) };
  }
  const { registered, orders } = recorded;
  await recordAttempt(deps, tx, registered, hosted);
  if (hosted.status === "requires_payment") return { payment: registered, orders };
  // An immediate outcome is checked like any other PSP report (amount and currency included).
  const applied = await applyAttemptReport(deps, tx, registered, hosted.pspReference, hosted.status, {
    ...(hosted.amount !== undefined ? { amount: hosted.amount } : {}),
    ...(hosted.currency !== undefined ? { currency: hosted.currency } : {}),
  });
  return { payment: applied.payment, orders: applied.orders ?? orders };
}

/** The registration could not be done now: a durable job retries it with backoff. */
export async function queueRegistration(deps: Deps, tx: StoreTx, payment: Payment): Promise<void> {
  await enqueueJob(
    tx,
    {
      type: REGISTER_JOB,
      payload: { paymentId: payment.id },
      dedupeKey: `${REGISTER_JOB}:${registrationKey(payment.id, payment.attempt)}`,
      maxAttempts: deps.settings.registrationMaxAttempts,
    },
    deps,
  );
}

/** Registration failed for good (rejected by the PSP, or retries exhausted): the payment fails. */
export async function failRegistration(
  deps: Deps,
  tx: StoreTx,
  paymentId: string,
  reason: string,
): Promise<RecordedPayment | null> {
  const payment = await tx.payments.get(paymentId, { forUpdate: true });
  if (!payment) return null;
  if (payment.status !== "created") return { payment };
  const failed: Payment = {
    ...payment,
    status: paymentMachine.transition(payment.status, "fail"),
    failureReason: reason,
    version: payment.version + 1,
    updatedAt: deps.clock.now(),
  };
  return { payment: failed, orders: await recordPaymentChange(deps, tx, failed) };
}
