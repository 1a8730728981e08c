import type { Checkout } from "../domain/checkout.js";
import { checkoutMachine } from "../domain/checkout-status.js";
import type { PaymentOrder } from "../domain/payment-order.js";
import { ErrorCodes, SettlekitError } from "../errors.js";
import { enqueueJob } from "../jobs/job-runner.js";
import type { HostedPayment } from "../ports/psp.js";
import type { StoreTx } from "../ports/store.js";
import { applyAttemptReport, recordAttempt } from "./attempts.js";
import type { Deps } from "./deps.js";
import { recordCheckoutChange, tryRecordCheckoutChange } from "./payment-outcome.js";

export const REGISTER_JOB = "psp.register";

/** A checkout after a registration step, with its orders when the step already loaded them. */
export interface RecordedCheckout {
  readonly checkout: Checkout;
  readonly orders?: PaymentOrder[];
}

/** The PSP idempotency key of a checkout's n-th payment attempt: the same attempt never registers twice. */
export const registrationKey = (checkoutId: string, attempt: number) => `${checkoutId}:register:${attempt}`;

/**
 * Phase 2 of checkout creation: registers the checkout with its PSP, outside any transaction.
 * The idempotency key is derived from the checkout and attempt, so a repeat (crash recovery,
 * job retry) gets the same hosted payment back.
 */
export async function registerWithPsp(
  deps: Deps,
  checkout: Checkout,
  orders: readonly PaymentOrder[],
): Promise<HostedPayment> {
  return deps.provider(checkout.pspId).createHostedPayment({
    checkoutId: checkout.id,
    amount: checkout.amount,
    currency: checkout.currency,
    method: checkout.method,
    orders: orders.map((o) => ({
      paymentOrderId: o.id,
      sellerId: o.sellerId,
      amount: o.amount,
      ...(o.description ? { description: o.description } : {}),
    })),
    successUrl: checkout.successUrl,
    cancelUrl: checkout.cancelUrl,
    createdAt: checkout.createdAt,
    ...(checkout.expiresAt ? { expiresAt: checkout.expiresAt } : {}),
    buyerId: checkout.buyerId,
    metadata: Object.fromEntries(
      Object.entries(checkout.metadata).filter(([k]) => !k.startsWith("settlekit.")),
    ),
    idempotencyKey: registrationKey(checkout.id, checkout.attempt),
  });
}

/**
 * Phase 3: stores the PSP's token and page against the checkout and moves it to
 * `requires_payment` (then on, if the PSP already reports more). A checkout that moved on
 * meanwhile (registered by a racing job, expired) is left as it is. `known`: the checkout and
 * orders as phase 1 wrote them; while the stored checkout is still at that version its orders
 * are too (every order change comes with a checkout change), so they are not read again.
 */
export async function recordRegistration(
  deps: Deps,
  tx: StoreTx,
  checkoutId: string,
  hosted: HostedPayment,
  known?: { readonly checkout: Checkout; readonly orders: readonly PaymentOrder[] },
): Promise<RecordedCheckout> {
  const register = (checkout: Checkout): Checkout => ({
    ...checkout,
    status: checkoutMachine.transition(checkout.status, "register"),
    pspReference: hosted.pspReference,
    redirectUrl: hosted.redirectUrl,
    version: checkout.version + 1,
    updatedAt: deps.clock.now(),
  });
  let recorded: { registered: Checkout; orders: PaymentOrder[] } | undefined;
  if (known?.checkout.status === "created") {
    // Optimistic: the checkout as phase 1 wrote it. The compare-and-set update proves it is still
    // that version (then its orders are too: every order change comes with a checkout change)
    // and saves reading it back; if something moved it meanwhile, nothing was written.
    const registered = register(known.checkout);
    const orders = await tryRecordCheckoutChange(deps, tx, registered, known.orders);
    if (orders) recorded = { registered, orders };
  }
  if (!recorded) {
    const checkout = await tx.checkouts.get(checkoutId, { forUpdate: true });
    if (!checkout) throw new SettlekitError(ErrorCodes.NOT_FOUND, `No checkout ${checkoutId}.`);
    if (checkout.status !== "created") return { checkout };
    const registered = register(checkout);
    recorded = { registered, orders: await recordCheckoutChange(deps, tx, registered) };
  }
  const { registered, orders } = recorded;
  await recordAttempt(deps, tx, registered, hosted);
  if (hosted.status === "requires_payment") return { checkout: registered, orders };
  // An immediate outcome is checked like any other PSP report (amount and currency included).
  const applied = await applyAttemptReport(deps, tx, registered, hosted.pspReference, hosted.status, {
    ...(hosted.amount !== undefined ? { amount: hosted.amount } : {}),
    ...(hosted.currency !== undefined ? { currency: hosted.currency } : {}),
  });
  return { checkout: applied.checkout, orders: applied.orders ?? orders };
}

/** The registration could not be done now: a durable job retries it with backoff. */
export async function queueRegistration(deps: Deps, tx: StoreTx, checkout: Checkout): Promise<void> {
  await enqueueJob(
    tx,
    {
      type: REGISTER_JOB,
      payload: { checkoutId: checkout.id },
      dedupeKey: `${REGISTER_JOB}:${registrationKey(checkout.id, checkout.attempt)}`,
      maxAttempts: deps.settings.registrationMaxAttempts,
    },
    deps,
  );
}

/** Registration failed for good (rejected by the PSP, or retries exhausted): the checkout fails. */
export async function failRegistration(
  deps: Deps,
  tx: StoreTx,
  checkoutId: string,
  reason: string,
): Promise<RecordedCheckout | null> {
  const checkout = await tx.checkouts.get(checkoutId, { forUpdate: true });
  if (!checkout) return null;
  if (checkout.status !== "created") return { checkout };
  const failed: Checkout = {
    ...checkout,
    status: checkoutMachine.transition(checkout.status, "fail"),
    failureReason: reason,
    version: checkout.version + 1,
    updatedAt: deps.clock.now(),
  };
  return { checkout: failed, orders: await recordCheckoutChange(deps, tx, failed) };
}
