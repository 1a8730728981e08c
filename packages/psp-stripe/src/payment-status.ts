import type { PaymentInstrument, PspPaymentStatus, RetrievedPayment } from "@settlekit/core";
import type Stripe from "stripe";
import { fromStripeAmount, isoCurrency } from "./currency.js";
import { fromUnix, META } from "./metadata.js";

/**
 * A Checkout Session's status in settlekit's words. The session says whether the buyer finished
 * (`open` / `complete` / `expired`) and whether the money is in (`payment_status`); its
 * PaymentIntent says how a still-open attempt went:
 * - `expired` → expired;
 * - `complete` and `paid` → succeeded; `complete` and `unpaid` → processing (a bank transfer or
 *   debit on its way), failed when its PaymentIntent failed (`async_payment_failed`);
 * - `open`: no PaymentIntent yet → requires_payment; a declined attempt (the buyer may still
 *   retry on the page) → failed; `processing` → processing.
 */
export function sessionStatus(
  session: Stripe.Checkout.Session,
  intent?: Stripe.PaymentIntent,
): PspPaymentStatus {
  if (session.status === "expired") return "expired";
  if (session.payment_status === "paid" || session.payment_status === "no_payment_required")
    return "succeeded";
  if (intent?.status === "succeeded") return "succeeded";
  if (intent?.status === "canceled") return "canceled";
  if (intent?.status === "requires_payment_method" && intent.last_payment_error) return "failed";
  if (session.status === "complete") return "processing";
  return intent?.status === "processing" ? "processing" : "requires_payment";
}

/** Stripe's decline code when the issuer gave one (`insufficient_funds`), else its error code. */
export function failureOf(intent: Stripe.PaymentIntent | undefined): {
  failureCode?: string;
  failureMessage?: string;
} {
  const error = intent?.last_payment_error;
  if (!error) return {};
  const code = error.decline_code || error.code;
  return {
    ...(code ? { failureCode: code } : {}),
    ...(error.message ? { failureMessage: error.message } : {}),
  };
}

/** How the buyer paid, from the charge: a card's funding, or a bank method. */
export function instrumentOf(charge: Stripe.Charge | undefined): PaymentInstrument | undefined {
  const details = charge?.payment_method_details;
  if (!details) return undefined;
  if (details.type === "card") {
    const funding = details.card?.funding;
    return funding === "credit" ? "credit_card" : funding === "debit" ? "debit_card" : undefined;
  }
  return ["customer_balance", "us_bank_account", "sepa_debit"].includes(details.type)
    ? "bank_transfer"
    : undefined;
}

/** The payment a session belongs to: `client_reference_id`, else the metadata settlekit wrote. */
export const paymentIdOf = (session: Stripe.Checkout.Session): string | undefined =>
  session.client_reference_id ?? session.metadata?.[META.paymentId] ?? undefined;

const asObject = <T extends { id: string }>(value: string | T | null | undefined): T | undefined =>
  typeof value === "object" && value !== null ? value : undefined;

/** The port's view of a session retrieved with `expand: ["payment_intent.latest_charge"]`. */
export function toRetrievedPayment(session: Stripe.Checkout.Session): RetrievedPayment {
  const intent = asObject(session.payment_intent);
  const charge = asObject(intent?.latest_charge);
  const currency = isoCurrency(session.currency ?? "");
  const status = sessionStatus(session, intent);
  const instrument = instrumentOf(charge);
  const times = [session.created, intent?.created, charge?.created].filter(
    (t): t is number => t !== undefined,
  );
  return {
    pspReference: session.id,
    paymentId: paymentIdOf(session) ?? "",
    status,
    amount: fromStripeAmount(session.amount_total ?? 0, currency),
    currency,
    amountRefunded: charge ? fromStripeAmount(charge.amount_refunded, currency) : 0n,
    ...(instrument ? { instrument } : {}),
    ...(status === "failed" ? failureOf(intent) : {}),
    updatedAt: fromUnix(Math.max(...times)),
  };
}
