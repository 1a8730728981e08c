import type { Checkout } from "../domain/checkout.js";
import { checkoutMachine } from "../domain/checkout-status.js";
import { ErrorCodes, SettlekitError } from "../errors.js";
import type { JsonObject } from "../ports/json.js";
import { checkoutView } from "./checkout-view.js";
import type { Deps } from "./deps.js";
import { recordCheckoutChange } from "./payment-outcome.js";
import { withPspTimeout } from "./psp-timeout.js";
import { registerWithPsp } from "./registration.js";

/**
 * Starts a new payment attempt on a failed checkout (the buyer's "try again" after a decline, or
 * an operator replaying a registration that was dead-lettered): registers attempt n + 1 with the
 * PSP under its own idempotency key, then moves the checkout `failed → requires_payment` with the
 * new token. Reports about the old attempt are stale from then on (they carry the old reference).
 */
export async function retryPayment(
  deps: Deps,
  checkoutId: string,
  options: { buyerId?: string } = {},
): Promise<JsonObject> {
  const read = await deps.store.transaction(async (tx) => ({
    checkout: await tx.checkouts.get(checkoutId),
    orders: await tx.paymentOrders.listByCheckout(checkoutId),
  }));
  const checkout = read.checkout;
  if (!checkout || (options.buyerId !== undefined && checkout.buyerId !== options.buyerId)) {
    throw new SettlekitError(ErrorCodes.NOT_FOUND, `No checkout ${checkoutId}.`, { param: "id" });
  }
  checkoutMachine.assertTransition(checkout.status, checkoutMachine.transition(checkout.status, "retry"));
  const attempt: Checkout = { ...checkout, attempt: checkout.attempt + 1 };
  // Bounded: a PSP that does not answer is PSP_TIMEOUT; retrying registers attempt n + 1 under
  // the same PSP key (the checkout has not moved), so a registration that did happen is reused.
  const hosted = await withPspTimeout(deps, checkout.pspId, () =>
    registerWithPsp(deps, attempt, read.orders),
  );
  return deps.store.transaction(async (tx) => {
    const current = await tx.checkouts.get(checkoutId, { forUpdate: true });
    if (!current || current.version !== checkout.version) {
      throw new SettlekitError(ErrorCodes.STORE_CONFLICT, `Checkout ${checkoutId} changed meanwhile; retry.`);
    }
    const next: Checkout = {
      ...current,
      status: checkoutMachine.transition(current.status, "retry"),
      attempt: attempt.attempt,
      pspReference: hosted.pspReference,
      redirectUrl: hosted.redirectUrl,
      failureReason: undefined,
      version: current.version + 1,
      updatedAt: deps.clock.now(),
    };
    const orders = await recordCheckoutChange(deps, tx, next);
    return checkoutView(next, orders);
  });
}
