import type { CanceledHostedPayment, CancelHostedPaymentInput } from "@settlekit/core";
import type Stripe from "stripe";
import { call, rejected, toPspError } from "./errors.js";
import type { ResolvedStripeOptions } from "./options.js";
import { toRetrievedPayment } from "./payment-status.js";

const REASONS: readonly string[] = ["superseded", "expired", "canceled"];

/** A session that can no longer be paid: closed, nothing captured. */
const closed = (session: Stripe.Checkout.Session): CanceledHostedPayment => ({
  pspReference: session.id,
  status: "canceled",
});

/**
 * `cancelHostedPayment`: `POST /v1/checkout/sessions/:id/expire` under the request's idempotency
 * key. Stripe expires only `open` sessions (unpaid, or declined and still payable) and refuses
 * any other with a 400 — the buyer completed the session (paid, or a bank payment on its way) or
 * it already expired. On that refusal the adapter reads the session and answers what it holds, as
 * `retrievePayment` does: `expired` → `canceled`; otherwise its status (`succeeded` with the
 * amount and currency captured, `processing`, or `failed` for an asynchronous payment that failed
 * after the session completed). A refusal of a session that is still open is a real one and is
 * thrown as it came.
 *
 * @throws {PspError} `NOT_FOUND` for an unknown session; retryable/indeterminate as classified by
 *   `toPspError`; fatal `PSP_REQUEST_REJECTED` before any call for a missing reference or key.
 */
export async function expireCheckoutSession(
  options: ResolvedStripeOptions,
  input: CancelHostedPaymentInput,
): Promise<CanceledHostedPayment> {
  for (const name of ["idempotencyKey", "pspReference"] as const) {
    if (typeof input[name] !== "string" || input[name] === "") throw rejected(`${name} is required.`, name);
  }
  if (!REASONS.includes(input.reason)) {
    throw rejected(`Unknown reason ${JSON.stringify(input.reason)}.`, "reason");
  }
  let refusal: unknown;
  try {
    const session = await options.client.checkout.sessions.expire(
      input.pspReference,
      {},
      { idempotencyKey: input.idempotencyKey },
    );
    if (session.status === "expired") return closed(session);
  } catch (error) {
    const failure = toPspError(error, "Expiring the Checkout Session");
    if (failure.code !== "PSP_REQUEST_REJECTED") throw failure;
    refusal = failure;
  }
  const session = await call("Retrieving the Checkout Session it could not expire", () =>
    options.client.checkout.sessions.retrieve(input.pspReference, {
      expand: ["payment_intent.latest_charge"],
    }),
  );
  if (session.status === "expired") return closed(session);
  if (session.status === "open" && refusal !== undefined) throw refusal;
  const { status, amount, currency } = toRetrievedPayment(session);
  return { pspReference: session.id, status, amount, currency };
}
