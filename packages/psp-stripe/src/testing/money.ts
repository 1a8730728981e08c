import type Stripe from "stripe";
import { invalidRequest } from "./errors.js";
import type { Form } from "./form.js";
import { str } from "./form.js";
import { checkParams, metadataOf, REFUND_CREATE } from "./params.js";
import type { FakeStripeState } from "./state.js";
import { newId, FakeStripeState as State } from "./state.js";

type Txn = Stripe.BalanceTransaction & { _payout: string | null };

export const positive = (value: string | undefined, param: string): number => {
  const amount = Number(State.required(value, param));
  if (!Number.isSafeInteger(amount) || amount <= 0)
    throw invalidRequest("Amount must be a positive integer.", "parameter_invalid_integer", param);
  return amount;
};

/**
 * `POST /v1/refunds` of a PaymentIntent's charge: Stripe's checks, then refunded at once (cards),
 * or `pending` while `state.heldRefunds` asks (a bank refund; it counts against the charge until
 * {@link settleRefund}). A bank transfer (`customer_balance`) refund goes `requires_action`, as
 * Stripe's do: the customer is emailed for the bank account to send it to
 * (`next_action.display_details`), until {@link refundDetailsProvided}.
 */
export function createRefund(state: FakeStripeState, form: Form): Stripe.Refund {
  checkParams(REFUND_CREATE, form);
  const metadata = metadataOf(form.metadata);
  const intent = state.get<Stripe.PaymentIntent>(
    "payment_intent",
    State.required(str(form, "payment_intent"), "payment_intent"),
    "payment_intent",
  );
  if (intent.status !== "succeeded" || typeof intent.latest_charge !== "string") {
    throw invalidRequest(
      `PaymentIntent ${intent.id} does not have a successful charge to refund.`,
      "charge_not_refundable",
      "payment_intent",
    );
  }
  const charge = state.get<Stripe.Charge>("charge", intent.latest_charge);
  // Money a dispute withdrew (and did not give back) cannot be refunded as well.
  const disputed = state
    .all<Stripe.Dispute>("dispute", (d) => d.charge === charge.id && d.status !== "won")
    .reduce((sum, d) => sum + d.amount, 0);
  const left = charge.amount - charge.amount_refunded - disputed;
  if (left === 0 && disputed > 0)
    throw invalidRequest(`Charge ${charge.id} has been charged back.`, "charge_disputed");
  if (left === 0)
    throw invalidRequest(`Charge ${charge.id} has already been refunded.`, "charge_already_refunded");
  const amount = str(form, "amount") === undefined ? left : positive(str(form, "amount"), "amount");
  if (amount > left) {
    throw invalidRequest(
      `Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`,
      "amount_too_large",
      "amount",
    );
  }
  const bankTransfer =
    (charge.payment_method_details as { type?: string } | null)?.type === "customer_balance";
  const refund = state.put({
    id: newId("re"),
    object: "refund",
    amount,
    balance_transaction: null,
    charge: charge.id,
    created: state.now(),
    currency: charge.currency,
    metadata,
    payment_intent: intent.id,
    reason: (str(form, "reason") as Stripe.Refund.Reason) ?? null,
    status: bankTransfer ? "requires_action" : state.takeRefundHold() ? "pending" : "succeeded",
    ...(bankTransfer
      ? {
          next_action: {
            type: "display_details",
            display_details: {
              email_sent: {
                email_sent_at: state.now(),
                email_sent_to: str(form, "instructions_email") ?? "buyer@example.com",
              },
              expires_at: state.now() + 45 * 86_400,
            },
          },
        }
      : {}),
  } as unknown as Stripe.Refund);
  refund.balance_transaction = state.balance(refund.id, "refund", "refund", -amount, refund.currency).id;
  charge.amount_refunded += amount;
  charge.refunded = charge.amount_refunded === charge.amount;
  state.emit("refund.created", refund);
  state.emit("charge.refunded", charge);
  return refund;
}

/**
 * Test control: a refund settles later, as bank refunds do. `succeeded` settles a `pending` one
 * (`refund.updated`); `failed` fails a `pending` or an already `succeeded` one with
 * `failure_reason`: its money returns to the charge and the balance (a `refund_failure` balance
 * transaction), and Stripe sends `charge.refund.updated` and `refund.failed`.
 */
export function settleRefund(
  state: FakeStripeState,
  refundId: string,
  outcome: "succeeded" | "failed",
  failureReason = "declined",
): Stripe.Refund {
  const refund = state.get<Stripe.Refund>("refund", refundId);
  if (outcome === "succeeded") {
    if (refund.status === "requires_action") refundDetailsProvided(state, refundId);
    if (refund.status !== "pending") throw new Error(`Refund ${refundId} is ${refund.status}, not pending.`);
    refund.status = "succeeded";
    state.emit("refund.updated", refund);
    return refund;
  }
  if (refund.status !== "pending" && refund.status !== "succeeded" && refund.status !== "requires_action") {
    throw new Error(`Refund ${refundId} is ${refund.status}; only open or succeeded refunds fail.`);
  }
  delete refund.next_action;
  const charge = state.get<Stripe.Charge>("charge", String(refund.charge));
  refund.status = "failed";
  refund.failure_reason = failureReason;
  refund.failure_balance_transaction = state.balance(
    refund.id,
    "refund_failure",
    "refund_failure",
    refund.amount,
    refund.currency,
  ).id;
  charge.amount_refunded -= refund.amount;
  charge.refunded = charge.amount_refunded === charge.amount;
  state.emit("charge.refund.updated", refund);
  state.emit("refund.failed", refund);
  return refund;
}

/**
 * Test control: the customer gave the bank account a `requires_action` bank transfer refund goes
 * to; it is `pending` (`refund.updated`) until {@link settleRefund}.
 */
export function refundDetailsProvided(state: FakeStripeState, refundId: string): Stripe.Refund {
  const refund = state.get<Stripe.Refund>("refund", refundId);
  if (refund.status !== "requires_action")
    throw new Error(`Refund ${refundId} is ${refund.status}, not requires_action.`);
  refund.status = "pending";
  delete refund.next_action;
  state.emit("refund.updated", refund);
  return refund;
}

/**
 * An automatic payout of everything not yet paid out in one currency (test control): its own
 * balance transaction, every included one marked with it (what `?payout=` lists), then
 * `payout.created` and `payout.paid`.
 */
export function createAutomaticPayout(state: FakeStripeState, currency: string): Stripe.Payout {
  const included = state.all<Txn>(
    "balance_transaction",
    (t) => t.currency === currency && t._payout === null,
  );
  const amount = included.reduce((sum, t) => sum + t.net, 0);
  const payout = state.put({
    id: newId("po"),
    object: "payout",
    amount,
    arrival_date: state.now() + 86_400,
    automatic: true,
    balance_transaction: null,
    created: state.now(),
    currency,
    failure_code: null,
    metadata: {},
    status: "paid",
    type: "bank_account",
  } as unknown as Stripe.Payout);
  const own = state.balance(payout.id, "payout", "payout", -amount, currency) as unknown as Txn;
  for (const txn of [...included, own]) txn._payout = payout.id;
  payout.balance_transaction = own.id;
  state.emit("payout.created", { ...payout, status: "pending" });
  state.emit("payout.paid", payout);
  return payout;
}

/** The balance transactions a `GET /v1/balance_transactions` query selects, newest first. */
export function balanceTransactions(state: FakeStripeState, query: URLSearchParams): Txn[] {
  const payout = query.get("payout");
  const gte = query.get("created[gte]");
  const lt = query.get("created[lt]");
  return state.all<Txn>(
    "balance_transaction",
    (t) =>
      (payout === null || t._payout === payout) &&
      (gte === null || t.created >= Number(gte)) &&
      (lt === null || t.created < Number(lt)),
  );
}

/** Formats smallest units as a major-unit decimal for the report ("-23.45", "1000"). */
function major(amount: number, exponent: number): string {
  const digits = Math.abs(amount)
    .toString()
    .padStart(exponent + 1, "0");
  const body = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  return amount < 0 ? `-${body}` : body;
}

const utc = (seconds: number): string =>
  new Date(seconds * 1000).toISOString().slice(0, 19).replace("T", " ");

/** The itemized payout reconciliation report's columns this fake renders (a subset of `payout_reconciliation.itemized.5`, plus settlekit's metadata). */
export const REPORT_COLUMNS = [
  "automatic_payout_id",
  "automatic_payout_effective_at_utc",
  "balance_transaction_id",
  "created_utc",
  "available_on_utc",
  "currency",
  "gross",
  "fee",
  "net",
  "reporting_category",
  "source_id",
  "description",
  "payment_intent_id",
  "payment_metadata[settlekit_payment_id]",
  "refund_metadata[settlekit_payment_id]",
  "refund_metadata[settlekit_session_id]",
  "transfer_metadata[settlekit_payment_id]",
] as const;

/**
 * Renders `payout_reconciliation.itemized.5` for one automatic payout as Stripe's Reports API
 * would: one row per balance transaction the payout settled (the payout's own excluded), amounts
 * in major units by the currency's exponent (`exponent` is Stripe's, e.g. 2 for USD).
 */
export function reconciliationReport(
  state: FakeStripeState,
  payoutId: string,
  exponent: (currency: string) => number,
): string {
  const payout = state.get<Stripe.Payout>("payout", payoutId);
  const rows = state
    .all<Txn>("balance_transaction", (t) => t._payout === payoutId && t.type !== "payout")
    .reverse()
    .map((t) => {
      const source = state.objects.get(t.source as string) as unknown as {
        object: string;
        metadata?: Record<string, string>;
        payment_intent?: string;
      };
      const meta = (kind: string, key: string) =>
        source?.object === kind ? (source.metadata?.[key] ?? "") : "";
      const e = exponent(t.currency);
      const cells = [
        payoutId,
        utc(payout.arrival_date),
        t.id,
        utc(t.created),
        utc(t.available_on),
        t.currency,
        major(t.amount, e),
        major(t.fee, e),
        major(t.net, e),
        t.reporting_category,
        t.source as string,
        `"Settlekit, ${t.type}"`, // quoted, with a comma: the parser must honour CSV quoting
        source?.payment_intent ?? "",
        meta("charge", "settlekit_payment_id"),
        meta("refund", "settlekit_payment_id"),
        meta("refund", "settlekit_session_id"),
        meta("transfer", "settlekit_payment_id"),
      ];
      return cells.join(",");
    });
  return `${[REPORT_COLUMNS.join(","), ...rows].join("\r\n")}\r\n`;
}
