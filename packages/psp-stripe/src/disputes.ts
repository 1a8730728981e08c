import type { DisputeStatus, PspEvent } from "@settlekit/core";
import type Stripe from "stripe";
import { fromStripeAmount, isoCurrency } from "./currency.js";
import { call } from "./errors.js";
import { fromUnix, idOf } from "./metadata.js";
import type { ResolvedStripeOptions } from "./options.js";

/** Stripe's dispute statuses in settlekit's words (see `DisputeStatus`). */
const DISPUTE_STATUS: Readonly<Record<string, DisputeStatus>> = {
  warning_needs_response: "inquiry",
  warning_under_review: "inquiry",
  warning_closed: "warning_closed",
  prevented: "warning_closed",
  needs_response: "needs_response",
  appeal_needs_response: "needs_response",
  under_review: "under_review",
  appeal_under_review: "under_review",
  won: "won",
  lost: "lost",
};

/** The `charge.dispute.*` event types settlekit maps (each carries the whole dispute). */
export const DISPUTE_EVENT_TYPES: readonly string[] = [
  "charge.dispute.created",
  "charge.dispute.updated",
  "charge.dispute.closed",
  "charge.dispute.funds_withdrawn",
  "charge.dispute.funds_reinstated",
];

type Occurrence = { readonly eventId: string; readonly occurredAt: Date };

/**
 * What the dispute's balance transactions say Stripe moved, in the dispute's currency: the
 * withdrawal (negative amount; its `fee` is the dispute fee) and the reinstatement of a won
 * dispute (positive amount; a negative `fee` is the dispute fee Stripe gave back). A balance
 * transaction in another currency (a conversion to the account's settlement currency) cannot be
 * split exactly: its movement is reported as the disputed amount, without a fee.
 */
function fundsOf(dispute: Stripe.Dispute, currency: string) {
  const out: {
    fundsWithdrawn?: { amount: bigint; fee: bigint };
    fundsReinstated?: { amount: bigint; feeReturned: bigint };
  } = {};
  for (const txn of dispute.balance_transactions ?? []) {
    const same = isoCurrency(txn.currency) === currency;
    const amount = same
      ? fromStripeAmount(Math.abs(txn.amount), currency)
      : fromStripeAmount(dispute.amount, currency);
    const fee = same ? fromStripeAmount(Math.abs(txn.fee), currency) : 0n;
    if (txn.amount < 0) out.fundsWithdrawn = { amount, fee: txn.fee > 0 ? fee : 0n };
    else if (txn.amount > 0) out.fundsReinstated = { amount, feeReturned: txn.fee < 0 ? fee : 0n };
  }
  return out;
}

/**
 * A `charge.dispute.*` event: the dispute names its charge and PaymentIntent, not the Checkout
 * Session settlekit knows the payment by, so the session is looked up by the intent (the charge
 * is read first when the dispute does not name its intent). A dispute of a payment no settlekit
 * session made, or in a status this adapter does not know, is acknowledged as `ignored`.
 */
export async function disputeEvent(
  options: ResolvedStripeOptions,
  at: Occurrence,
  dispute: Stripe.Dispute,
  type: string,
): Promise<PspEvent> {
  const status = DISPUTE_STATUS[dispute.status];
  if (!status) return { kind: "ignored", ...at, type };
  let intent = idOf(dispute.payment_intent);
  if (!intent) {
    const chargeId = idOf(dispute.charge);
    if (!chargeId) return { kind: "ignored", ...at, type };
    const charge = await call("Reading a disputed charge", () => options.client.charges.retrieve(chargeId));
    intent = idOf(charge.payment_intent);
  }
  if (!intent) return { kind: "ignored", ...at, type };
  const paymentIntent = intent;
  const sessions = await call("Finding the Checkout Session of a disputed PaymentIntent", () =>
    options.client.checkout.sessions.list({ payment_intent: paymentIntent, limit: 1 }),
  );
  const session = sessions.data[0];
  if (!session) return { kind: "ignored", ...at, type };
  const currency = isoCurrency(dispute.currency);
  const due = dispute.evidence_details?.due_by;
  return {
    kind: "dispute",
    ...at,
    pspReference: session.id,
    disputeReference: dispute.id,
    status,
    amount: fromStripeAmount(dispute.amount, currency),
    currency,
    ...(dispute.reason ? { reason: dispute.reason } : {}),
    ...(typeof due === "number" ? { evidenceDueBy: fromUnix(due) } : {}),
    ...fundsOf(dispute, currency),
  };
}
