import type { PspEvent, PspPaymentStatus, RefundStatus, WebhookInput } from "@settlekit/core";
import { PspError } from "@settlekit/core";
import type Stripe from "stripe";
import { fromStripeAmount, isoCurrency } from "./currency.js";
import { DISPUTE_EVENT_TYPES, disputeEvent } from "./disputes.js";
import { call } from "./errors.js";
import { fromUnix, idOf, META } from "./metadata.js";
import type { ResolvedStripeOptions } from "./options.js";
import { failureOf, paymentIdOf } from "./payment-status.js";
import { transferStatus } from "./transfer-status.js";

/** Stripe's signature header (node:http lowercases names). */
const SIGNATURE_HEADER = "stripe-signature";

const invalidSignature = (message: string, cause?: unknown) =>
  new PspError("WEBHOOK_SIGNATURE_INVALID", "fatal", `Stripe webhook refused: ${message}`, {
    pspCode: "signature_verification_failed",
    cause,
  });

/**
 * Verifies the `Stripe-Signature` over the raw bytes with each configured secret in turn (a
 * rotation accepts old and new) and the tolerance, against `now` (the host's clock), then
 * returns the parsed event. Nothing in an unverified body is trusted.
 */
function verifiedEvent(options: ResolvedStripeOptions, input: WebhookInput): Stripe.Event {
  const header = input.headers[SIGNATURE_HEADER];
  const signature = Array.isArray(header) ? header[0] : header;
  if (typeof signature !== "string" || signature === "") throw invalidSignature("no Stripe-Signature header");
  const receivedAt = (input.now ?? options.clock.now()).getTime();
  let lastError: unknown;
  for (const secret of options.webhookSecrets) {
    try {
      return options.client.webhooks.constructEvent(
        input.rawBody,
        signature,
        secret,
        options.webhookToleranceSeconds,
        undefined,
        receivedAt,
      );
    } catch (error) {
      lastError = error;
    }
  }
  throw invalidSignature(lastError instanceof Error ? lastError.message : "no secret matched", lastError);
}

type Occurrence = { readonly eventId: string; readonly occurredAt: Date };

function sessionEvent(at: Occurrence, session: Stripe.Checkout.Session, status: PspPaymentStatus): PspEvent {
  const currency = isoCurrency(session.currency ?? "");
  const paymentId = paymentIdOf(session);
  return {
    kind: "payment",
    ...at,
    pspReference: session.id,
    ...(paymentId ? { paymentId } : {}),
    status,
    // What the session charged (Stripe's smallest unit → ISO minor units), checked by core against
    // the payment. Every payment-mode session has a total; one without reports 0, which can only
    // send the payment to review (as `retrievePayment` does).
    amount: fromStripeAmount(session.amount_total ?? 0, currency),
    currency,
  };
}

/** Stripe's refund statuses: `requires_action` and `pending` are on their way; `canceled` moved nothing. */
const REFUND_STATUS: Readonly<Record<string, RefundStatus>> = {
  pending: "pending",
  requires_action: "pending",
  succeeded: "succeeded",
  failed: "failed",
  canceled: "failed",
};

/**
 * The session settlekit knows a refunded payment by. Settlekit writes it on every refund it
 * makes; a refund made elsewhere (the Dashboard) names only its PaymentIntent, whose session is
 * looked up as for PaymentIntent events (once per webhook). A PaymentIntent no Checkout Session
 * created keeps its own id, which settlekit does not know: core defers the event.
 */
async function refundedPaymentReference(
  options: ResolvedStripeOptions,
  refund: Stripe.Refund,
  sessionOf: Map<string, Promise<string | undefined>>,
): Promise<string> {
  const session = refund.metadata?.[META.sessionId];
  if (session) return session;
  const intent = idOf(refund.payment_intent);
  if (!intent) return idOf(refund.charge) ?? "";
  let found = sessionOf.get(intent);
  if (!found) {
    found = call("Finding the Checkout Session of a refunded PaymentIntent", () =>
      options.client.checkout.sessions.list({ payment_intent: intent, limit: 1 }),
    ).then((sessions) => sessions.data[0]?.id);
    sessionOf.set(intent, found);
  }
  return (await found) ?? intent;
}

async function refundEvent(
  options: ResolvedStripeOptions,
  at: Occurrence,
  refund: Stripe.Refund,
  sessionOf: Map<string, Promise<string | undefined>> = new Map(),
): Promise<PspEvent> {
  const currency = isoCurrency(refund.currency);
  const refundId = refund.metadata?.[META.refundId];
  return {
    kind: "refund",
    ...at,
    pspReference: await refundedPaymentReference(options, refund, sessionOf),
    refundReference: refund.id,
    // Absent on a Dashboard refund: settlekit records it as an external refund.
    ...(refundId ? { refundId } : {}),
    status: REFUND_STATUS[refund.status ?? ""] ?? "pending",
    ...(refund.status === "failed" && refund.failure_reason ? { failureReason: refund.failure_reason } : {}),
    amount: fromStripeAmount(refund.amount, currency),
    currency,
  };
}

function transferEvent(at: Occurrence, transfer: Stripe.Transfer): PspEvent {
  const currency = isoCurrency(transfer.currency);
  const payoutId = transfer.metadata?.[META.payoutId];
  return {
    kind: "payout",
    ...at,
    payoutReference: transfer.id,
    ...(payoutId ? { payoutId } : {}),
    ...transferStatus(transfer),
    amount: fromStripeAmount(transfer.amount, currency),
    currency,
  };
}

const BANK_PAYOUT_STATUS = { paid: "paid", failed: "failed", canceled: "canceled" } as const;

function bankPayoutEvent(at: Occurrence, payout: Stripe.Payout): PspEvent {
  const currency = isoCurrency(payout.currency);
  return {
    kind: "bank_payout",
    ...at,
    bankPayoutReference: payout.id,
    status: BANK_PAYOUT_STATUS[payout.status as keyof typeof BANK_PAYOUT_STATUS] ?? "pending",
    amount: fromStripeAmount(payout.amount, currency),
    currency,
    arrivalAt: fromUnix(payout.arrival_date),
  };
}

/**
 * A PaymentIntent event concerns the Checkout Session that created the intent: the session id
 * is settlekit's reference, and the intent does not carry it, so it is looked up.
 */
async function intentEvent(
  options: ResolvedStripeOptions,
  at: Occurrence,
  intent: Stripe.PaymentIntent,
  status: PspPaymentStatus,
  type: string,
): Promise<PspEvent> {
  const sessions = await call("Finding the Checkout Session of a PaymentIntent", () =>
    options.client.checkout.sessions.list({ payment_intent: intent.id, limit: 1 }),
  );
  const session = sessions.data[0];
  if (!session) return { kind: "ignored", ...at, type };
  const currency = isoCurrency(intent.currency);
  const paymentId = paymentIdOf(session) ?? intent.metadata?.[META.paymentId];
  return {
    kind: "payment",
    ...at,
    pspReference: session.id,
    ...(paymentId ? { paymentId } : {}),
    status,
    amount: fromStripeAmount(intent.amount, currency),
    currency,
    ...(status === "failed" ? failureOf(intent) : {}),
  };
}

/**
 * `parseWebhook` for Stripe: verify, then map the event onto settlekit's words.
 * - `checkout.session.completed`: paid → succeeded; unpaid (a bank payment on its way) → processing.
 * - `checkout.session.async_payment_succeeded` / `_failed` → succeeded / failed.
 * - `checkout.session.expired` → expired.
 * - `payment_intent.processing` / `payment_intent.payment_failed` → processing / failed (with the
 *   decline code; the buyer may still retry on the page).
 * - `refund.created` / `refund.updated` / `refund.failed` / `charge.refund.updated`, and
 *   `charge.refunded` for the refunds its charge lists → refund events (with Stripe's
 *   `failure_reason` when failed: a bank refund can fail after it succeeded). A refund made in
 *   the Dashboard carries no settlekit metadata: its session is found from its PaymentIntent.
 * - `transfer.*` (Connect payouts to sellers) → payout events; `transfer.reversed` comes for a
 *   partial reversal too: `partially_reversed` with `amountReversed` (Stripe's `amount_reversed`)
 *   until the whole transfer is back (`reversed`); `payout.*` of the platform's own
 *   balance → bank payout events (a connected account's own payouts are the seller's business).
 * - `charge.dispute.created` / `updated` / `closed` / `funds_withdrawn` / `funds_reinstated` →
 *   dispute events (the whole dispute, resolved to its Checkout Session; see `disputes.ts`).
 * Any other type is acknowledged as `ignored`: `payment_intent.succeeded` among them, since the
 * session events already report it.
 */
export async function parseStripeWebhook(
  options: ResolvedStripeOptions,
  input: WebhookInput,
): Promise<PspEvent[]> {
  const event = verifiedEvent(options, input);
  const at: Occurrence = { eventId: event.id, occurredAt: fromUnix(event.created) };
  if (DISPUTE_EVENT_TYPES.includes(event.type)) {
    return [await disputeEvent(options, at, event.data.object as Stripe.Dispute, event.type)];
  }
  switch (event.type) {
    case "checkout.session.completed": {
      const session = event.data.object;
      return [sessionEvent(at, session, session.payment_status === "unpaid" ? "processing" : "succeeded")];
    }
    case "checkout.session.async_payment_succeeded":
      return [sessionEvent(at, event.data.object, "succeeded")];
    case "checkout.session.async_payment_failed":
      return [sessionEvent(at, event.data.object, "failed")];
    case "checkout.session.expired":
      return [sessionEvent(at, event.data.object, "expired")];
    case "payment_intent.processing":
      return [await intentEvent(options, at, event.data.object, "processing", event.type)];
    case "payment_intent.payment_failed":
      return [await intentEvent(options, at, event.data.object, "failed", event.type)];
    case "refund.created":
    case "refund.updated":
    case "refund.failed":
    case "charge.refund.updated":
      return [await refundEvent(options, at, event.data.object)];
    case "charge.refunded": {
      // The charge lists its refunds only when Stripe includes them; each refund also has its
      // own `refund.*` event, and settlekit dedupes by refund reference, not by event.
      const refunds = event.data.object.refunds?.data ?? [];
      if (refunds.length === 0) return [{ kind: "ignored", ...at, type: event.type }];
      const sessionOf = new Map<string, Promise<string | undefined>>();
      return Promise.all(
        refunds.map((refund, i) =>
          refundEvent(options, { ...at, eventId: `${event.id}:${i}` }, refund, sessionOf),
        ),
      );
    }
    case "transfer.created":
    case "transfer.updated":
    case "transfer.reversed":
      return [transferEvent(at, event.data.object)];
    case "payout.created":
    case "payout.updated":
    case "payout.paid":
    case "payout.failed":
    case "payout.canceled":
      if (event.account) return [{ kind: "ignored", ...at, type: event.type }];
      return [bankPayoutEvent(at, event.data.object)];
    default:
      return [{ kind: "ignored", ...at, type: event.type }];
  }
}
