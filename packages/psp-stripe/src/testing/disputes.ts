import type Stripe from "stripe";
import { invalidRequest } from "./errors.js";
import type { FakeStripeState, Session } from "./state.js";
import { newId } from "./state.js";

/** Stripe's dispute fee in the fake: 1 500 smallest units ($15.00 in USD), whatever the currency. */
export const DISPUTE_FEE = 1_500;
/** How long the platform has to respond, in seconds (Stripe gives about 7 to 21 days). */
const EVIDENCE_WINDOW = 7 * 86_400;

type Txn = Stripe.BalanceTransaction & { _payout: string | null };

/** A dispute balance transaction (`adjustment`, reporting category `dispute` / `dispute_reversal`). */
function disputeTxn(
  state: FakeStripeState,
  dispute: Stripe.Dispute,
  amount: number,
  fee: number,
  category: string,
): Txn {
  return state.put({
    id: newId("txn"),
    object: "balance_transaction",
    amount,
    available_on: state.now(),
    created: state.now(),
    currency: dispute.currency,
    description: `Chargeback ${category === "dispute" ? "withdrawal" : "reversal"} for ${String(dispute.charge)}`,
    exchange_rate: null,
    fee,
    fee_details:
      fee === 0
        ? []
        : [{ amount: fee, currency: dispute.currency, description: "Dispute fee", type: "stripe_fee" }],
    net: amount - fee,
    reporting_category: category,
    source: dispute.id,
    status: "available",
    type: "adjustment",
    _payout: null,
  } as unknown as Txn);
}

/** The dispute with its balance transactions expanded, as Stripe puts it in `charge.dispute.*` events. */
function withTransactions(state: FakeStripeState, dispute: Stripe.Dispute): Stripe.Dispute {
  const ids = (dispute as unknown as { _txns: string[] })._txns;
  return {
    ...dispute,
    balance_transactions: ids.map((id) => state.get<Stripe.BalanceTransaction>("balance_transaction", id)),
  };
}

function emit(state: FakeStripeState, type: string, dispute: Stripe.Dispute): void {
  state.emit(type, withTransactions(state, dispute));
}

/**
 * Test control: the buyer's bank disputes the session's charge (default: all of it that is not
 * refunded). Like Stripe, the amount and the dispute fee leave the balance at once (a balance
 * transaction of `amount − fee`), and `charge.dispute.created` then `charge.dispute.funds_withdrawn`
 * go out, each with the whole dispute.
 */
export function openDispute(
  state: FakeStripeState,
  sessionId: string,
  options: { amount?: number; reason?: string } = {},
): Stripe.Dispute {
  const session = state.get<Session>("checkout.session", sessionId);
  const intent =
    typeof session.payment_intent === "string"
      ? state.get<Stripe.PaymentIntent>("payment_intent", session.payment_intent)
      : undefined;
  if (intent?.status !== "succeeded" || typeof intent.latest_charge !== "string") {
    throw invalidRequest(`Session ${sessionId} has no succeeded charge to dispute.`, "charge_not_disputable");
  }
  const charge = state.get<Stripe.Charge>("charge", intent.latest_charge);
  const left = charge.amount - charge.amount_refunded;
  const amount = options.amount ?? left;
  if (!Number.isSafeInteger(amount) || amount <= 0 || amount > left) {
    throw invalidRequest(`A dispute amount is in (0, ${left}].`, "parameter_invalid", "amount");
  }
  const dispute = state.put({
    id: newId("du"),
    object: "dispute",
    amount,
    balance_transactions: [],
    charge: charge.id,
    created: state.now(),
    currency: charge.currency,
    evidence_details: {
      due_by: state.now() + EVIDENCE_WINDOW,
      has_evidence: false,
      past_due: false,
      submission_count: 0,
    },
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: intent.id,
    reason: options.reason ?? "fraudulent",
    status: "needs_response",
    _txns: [] as string[],
  } as unknown as Stripe.Dispute);
  (charge as unknown as { disputed: boolean }).disputed = true;
  (dispute as unknown as { _txns: string[] })._txns.push(
    disputeTxn(state, dispute, -amount, DISPUTE_FEE, "dispute").id,
  );
  emit(state, "charge.dispute.created", dispute);
  emit(state, "charge.dispute.funds_withdrawn", dispute);
  return withTransactions(state, dispute);
}

function openOne(state: FakeStripeState, disputeId: string): Stripe.Dispute {
  const dispute = state.get<Stripe.Dispute>("dispute", disputeId);
  if (dispute.status !== "needs_response" && dispute.status !== "under_review") {
    throw invalidRequest(`Dispute ${disputeId} is ${dispute.status}.`, "dispute_already_closed");
  }
  return dispute;
}

/** Test control: evidence submitted (`under_review`, `charge.dispute.updated`). */
export function submitDisputeEvidence(state: FakeStripeState, disputeId: string): Stripe.Dispute {
  const dispute = openOne(state, disputeId);
  dispute.status = "under_review";
  dispute.evidence_details.has_evidence = true;
  dispute.evidence_details.submission_count += 1;
  emit(state, "charge.dispute.updated", dispute);
  return withTransactions(state, dispute);
}

/**
 * Test control: the platform wins. The amount comes back, and `feeReturned` of the dispute fee
 * (default 0: Stripe often keeps it) as a negative fee on the reinstatement:
 * `charge.dispute.funds_reinstated`, then `charge.dispute.closed` (`won`).
 */
export function winDispute(state: FakeStripeState, disputeId: string, feeReturned = 0): Stripe.Dispute {
  const dispute = openOne(state, disputeId);
  if (!Number.isSafeInteger(feeReturned) || feeReturned < 0 || feeReturned > DISPUTE_FEE) {
    throw invalidRequest(`feeReturned is in [0, ${DISPUTE_FEE}].`, "parameter_invalid", "feeReturned");
  }
  dispute.status = "won";
  (dispute as unknown as { _txns: string[] })._txns.push(
    disputeTxn(state, dispute, dispute.amount, -feeReturned, "dispute_reversal").id,
  );
  emit(state, "charge.dispute.funds_reinstated", dispute);
  emit(state, "charge.dispute.closed", dispute);
  return withTransactions(state, dispute);
}

/** Test control: the buyer wins; Stripe keeps the amount and the fee (`charge.dispute.closed`, `lost`). */
export function loseDispute(state: FakeStripeState, disputeId: string): Stripe.Dispute {
  const dispute = openOne(state, disputeId);
  dispute.status = "lost";
  emit(state, "charge.dispute.closed", dispute);
  return withTransactions(state, dispute);
}
