import type {
  RefundInput,
  RefundResult,
  RefundStatus,
  RetrievedRefund,
  RetrieveRefundInput,
} from "@settlekit/core";
import { PspError, requireRequestFields } from "@settlekit/core";
import type Stripe from "stripe";
import { fromStripeAmount, isoCurrency, toStripeAmount } from "./currency.js";
import { call, rejected, toPspError } from "./errors.js";
import { idOf, META } from "./metadata.js";
import { checkStripeMetadata } from "./metadata-limits.js";
import type { ResolvedStripeOptions } from "./options.js";

const STRIPE_REASONS: readonly string[] = ["duplicate", "fraudulent", "requested_by_customer"];

const status = (refund: Stripe.Refund): RefundStatus =>
  refund.status === "succeeded"
    ? "succeeded"
    : refund.status === "failed" || refund.status === "canceled"
      ? "failed"
      : "pending";

const result = (refund: Stripe.Refund): RefundResult => ({
  refundReference: refund.id,
  status: status(refund),
  ...(refund.status === "failed" && refund.failure_reason ? { failureReason: refund.failure_reason } : {}),
});

/** Stripe's answers to "more than what is left": the charge is fully refunded, or the amount is too large. */
const EXCEEDS = new Set(["charge_already_refunded", "amount_too_large"]);

/** A refund settlekit already made for this refund id (written in its metadata), if any. */
async function findRefund(options: ResolvedStripeOptions, paymentIntent: string, refundId: string) {
  for await (const refund of options.client.refunds.list({ payment_intent: paymentIntent, limit: 100 })) {
    if (refund.metadata?.[META.refundId] === refundId) return refund;
  }
  return undefined;
}

/**
 * `refund`: a Stripe Refund of the session's PaymentIntent, created under the request's
 * idempotency key. Before creating one it looks for a refund already made for the same settlekit
 * `refundId` ("already refunded" is success, also when a host lost the first answer and retried
 * with a fresh key); the same id with another amount is a fatal `idempotency_error`.
 *
 * @throws {PspError} fatal `REFUND_EXCEEDS_CAPTURED` beyond what is left; fatal
 *   `PSP_REQUEST_REJECTED` for a payment that has not succeeded or another currency; `NOT_FOUND`
 *   for an unknown session; retryable/indeterminate as classified by `toPspError`.
 */
export async function refundSession(
  options: ResolvedStripeOptions,
  input: RefundInput,
): Promise<RefundResult> {
  requireRequestFields(input, ["refundId"]);
  const session = await call("Retrieving the Checkout Session to refund", () =>
    options.client.checkout.sessions.retrieve(input.pspReference, { expand: ["payment_intent"] }),
  );
  const intent = typeof session.payment_intent === "object" ? session.payment_intent : null;
  if (intent?.status !== "succeeded") {
    throw rejected(
      `Payment ${session.id} has not succeeded; there is nothing to refund.`,
      "pspReference",
      "charge_not_refundable",
    );
  }
  const currency = isoCurrency(intent.currency);
  if (input.currency !== currency) {
    throw rejected(
      `Refund currency ${input.currency} differs from the payment's ${currency}.`,
      "currency",
      "currency_mismatch",
    );
  }
  const amount = toStripeAmount(input.amount, currency);
  const known = await call("Listing the payment's refunds", () =>
    findRefund(options, intent.id, input.refundId),
  );
  if (known) {
    if (fromStripeAmount(known.amount, currency) !== input.amount) {
      throw rejected(
        `Refund id ${input.refundId} was already used with another amount.`,
        "refundId",
        "idempotency_error",
      );
    }
    return result(known);
  }
  const reason =
    input.reason && STRIPE_REASONS.includes(input.reason)
      ? (input.reason as Stripe.RefundCreateParams.Reason)
      : undefined;
  const metadata = {
    [META.refundId]: input.refundId,
    [META.paymentId]: intent.metadata?.[META.paymentId] ?? session.client_reference_id ?? "",
    [META.sessionId]: session.id,
    ...(input.reason && !reason ? { [META.refundReason]: input.reason } : {}),
  };
  checkStripeMetadata(metadata);
  try {
    const refund = await options.client.refunds.create(
      { payment_intent: intent.id, amount, ...(reason ? { reason } : {}), metadata },
      { idempotencyKey: input.idempotencyKey },
    );
    return result(refund);
  } catch (error) {
    const failure = toPspError(error, "Creating the refund");
    if (failure.pspCode && EXCEEDS.has(failure.pspCode)) {
      throw new PspError("REFUND_EXCEEDS_CAPTURED", "fatal", failure.message, {
        pspCode: failure.pspCode,
        param: "amount",
        cause: error,
      });
    }
    throw failure;
  }
}

/** The payment's PaymentIntent id (`pi_…`), from its Checkout Session; undefined before payment. */
async function intentOf(options: ResolvedStripeOptions, pspReference: string): Promise<string | undefined> {
  const session = await call("Retrieving the Checkout Session of the refund", () =>
    options.client.checkout.sessions.retrieve(pspReference),
  );
  return idOf(session.payment_intent as string | { id: string } | null);
}

const isNotFound = (error: unknown): boolean => error instanceof PspError && error.code === "NOT_FOUND";

/**
 * `retrieveRefund`: `GET /v1/refunds/:id` when the refund's id is known (null when Stripe has no
 * such refund, or it belongs to another payment), else the PaymentIntent's refunds (`GET
 * /v1/refunds?payment_intent=`) searched for settlekit's refund id in their metadata — a refund
 * whose `refund` answer was lost. The Checkout Session is read first: an unknown session is a
 * fatal `NOT_FOUND`, an unpaid one (no PaymentIntent) has no refunds (null).
 */
export async function retrieveStripeRefund(
  options: ResolvedStripeOptions,
  input: RetrieveRefundInput,
): Promise<RetrievedRefund | null> {
  if (!input.refundReference && !input.refundId) {
    throw rejected("refundReference or refundId is required.", "refundReference", "parameter_missing");
  }
  const intent = await intentOf(options, input.pspReference);
  if (!intent) return null;
  let refund: Stripe.Refund | undefined;
  if (input.refundReference) {
    const reference = input.refundReference;
    try {
      refund = await call("Retrieving the refund", () => options.client.refunds.retrieve(reference));
    } catch (error) {
      if (!isNotFound(error)) throw error;
      return null;
    }
    if (idOf(refund.payment_intent as string | { id: string } | null) !== intent) return null;
  } else {
    const refundId = input.refundId!;
    refund = await call("Listing the payment's refunds", () => findRefund(options, intent, refundId));
  }
  if (!refund) return null;
  const currency = isoCurrency(refund.currency);
  const refundId = refund.metadata?.[META.refundId];
  return {
    refundReference: refund.id,
    ...(refundId ? { refundId } : {}),
    status: status(refund),
    ...(status(refund) === "failed" && refund.failure_reason ? { failureReason: refund.failure_reason } : {}),
    amount: fromStripeAmount(refund.amount, currency),
    currency,
  };
}
