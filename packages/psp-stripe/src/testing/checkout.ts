import type Stripe from "stripe";
import { FakeStripeError, invalidRequest } from "./errors.js";
import type { Form } from "./form.js";
import { list, obj, str } from "./form.js";
import { checkParams, maxLength, metadataOf, SESSION_CREATE } from "./params.js";
import { bankTransferOf, offeredTypes } from "./payment-methods.js";
import type { FakeStripeState, Session } from "./state.js";
import { newId, FakeStripeState as State } from "./state.js";

/** Stripe's largest amount for most currencies: 8 digits of smallest units ($999,999.99). */
export const MAX_AMOUNT = 99_999_999;

const amountOf = (value: string | undefined, param: string): number => {
  const amount = Number(State.required(value, param));
  if (!Number.isSafeInteger(amount) || amount < 0)
    throw invalidRequest(`Invalid integer: ${value}`, "parameter_invalid_integer", param);
  if (amount > MAX_AMOUNT)
    throw invalidRequest("Amount must be no more than 999,999.99.", "amount_too_large", param);
  return amount;
};

/** `POST /v1/checkout/sessions`, with the checks Stripe makes at API `2026-10-28.endive`. */
export function createSession(state: FakeStripeState, form: Form): Session {
  if (form.payment_method_types !== undefined) {
    throw invalidRequest(
      "payment_method_types is no longer supported on this API version; use allowed_payment_method_types.",
      "payment_method_types_no_longer_supported",
      "payment_method_types",
    );
  }
  checkParams(SESSION_CREATE, form);
  if (str(form, "mode") !== "payment")
    throw invalidRequest("Only mode=payment is supported by this fake.", "parameter_invalid", "mode");
  const items = list(form, "line_items") as Form[];
  if (items.length === 0)
    throw invalidRequest("line_items is required in payment mode.", "parameter_missing", "line_items");
  let total = 0;
  let currency: string | undefined;
  items.forEach((item, i) => {
    const price = obj(item, "price_data");
    const itemCurrency = State.required(str(price, "currency"), `line_items[${i}][price_data][currency]`);
    if (currency !== undefined && itemCurrency !== currency)
      throw invalidRequest("All line items must share one currency.", "parameter_invalid", "line_items");
    currency = itemCurrency;
    State.required(
      str(obj(price, "product_data"), "name"),
      `line_items[${i}][price_data][product_data][name]`,
    );
    total +=
      amountOf(str(price, "unit_amount"), `line_items[${i}][price_data][unit_amount]`) *
      Number(str(item, "quantity") ?? "1");
  });
  if (total > MAX_AMOUNT)
    throw invalidRequest("Amount must be no more than 999,999.99.", "amount_too_large", "line_items");
  const now = state.now();
  const expiresAt = Number(str(form, "expires_at") ?? now + 86_400);
  if (!(expiresAt >= now + 1_800 && expiresAt <= now + 86_400)) {
    throw invalidRequest(
      "expires_at must be 30 minutes to 24 hours after creation.",
      "parameter_invalid",
      "expires_at",
    );
  }
  const intentData = obj(form, "payment_intent_data");
  const metadata = metadataOf(form.metadata);
  const intentMetadata = metadataOf(intentData?.metadata, "payment_intent_data[metadata]");
  items.forEach((item, i) => {
    metadataOf(
      obj(obj(item, "price_data"), "product_data")?.metadata,
      `line_items[${i}][price_data][product_data][metadata]`,
    );
  });
  const clientReference = maxLength(str(form, "client_reference_id"), 200, "client_reference_id");
  const allowed = list(form, "allowed_payment_method_types") as string[];
  const offered = offeredTypes(allowed, currency!, bankTransferOf(form));
  // A bank transfer credits a Customer's cash balance: Checkout needs one.
  if (offered.includes("customer_balance") && str(form, "customer_creation") !== "always") {
    throw invalidRequest(
      "customer_balance needs a Customer: pass customer or customer_creation=always.",
      undefined,
      "customer_creation",
    );
  }
  const id = newId("cs_test");
  return state.put({
    id,
    object: "checkout.session",
    allowed_payment_method_types: allowed,
    amount_subtotal: total,
    amount_total: total,
    cancel_url: str(form, "cancel_url") ?? null,
    client_reference_id: clientReference ?? null,
    created: now,
    currency: currency!,
    customer: null,
    customer_creation: (str(form, "customer_creation") as Session["customer_creation"]) ?? null,
    expires_at: expiresAt,
    livemode: false,
    metadata,
    mode: "payment",
    payment_intent: null,
    payment_method_types: offered,
    payment_status: "unpaid",
    status: "open",
    success_url: State.required(str(form, "success_url"), "success_url"),
    ui_mode: "hosted_page",
    url: state.pageUrl(id),
    _intentData: {
      metadata: intentMetadata,
      transfer_group: str(intentData, "transfer_group") ?? null,
    },
  } as unknown as Session);
}

/**
 * `POST /v1/checkout/sessions/:id/expire` (also the test control's expiry): only an open session
 * can expire; a complete or already expired one gets Stripe's 400 `invalid_request_error`, with
 * its message and no code. Once expired, paying on the session fails.
 */
export function expireSession(state: FakeStripeState, id: string): Session {
  const session = state.get<Session>("checkout.session", id);
  if (session.status !== "open")
    throw invalidRequest(
      `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of \`${session.status}\`.`,
    );
  session.status = "expired";
  state.emit("checkout.session.expired", session);
  return session;
}

/** How the buyer's attempt ends (see the conformance suite's `PaymentOutcome`). */
export type FakeOutcome = "succeeded" | "declined" | "insufficient_funds" | "processing";

/** The session's PaymentIntent, created on the first attempt as Checkout does. */
function intentOf(state: FakeStripeState, session: Session, paymentMethod: string): Stripe.PaymentIntent {
  if (typeof session.payment_intent === "string")
    return state.get<Stripe.PaymentIntent>("payment_intent", session.payment_intent);
  const intent = state.put({
    id: newId("pi"),
    object: "payment_intent",
    amount: session.amount_total!,
    amount_received: 0,
    created: state.now(),
    currency: session.currency!,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    metadata: { ...session._intentData.metadata },
    payment_method_types: [paymentMethod],
    status: "requires_payment_method",
    transfer_group: session._intentData.transfer_group,
  } as unknown as Stripe.PaymentIntent);
  session.payment_intent = intent.id;
  return intent;
}

/** A charge of the intent, with its balance transaction when it succeeded. */
function charge(
  state: FakeStripeState,
  intent: Stripe.PaymentIntent,
  paymentMethod: string,
  failure?: { code: string; decline: string },
) {
  const succeeded = failure === undefined;
  const created = state.put({
    id: newId("ch"),
    object: "charge",
    amount: intent.amount,
    amount_captured: succeeded ? intent.amount : 0,
    amount_refunded: 0,
    balance_transaction: null,
    captured: succeeded,
    created: state.now(),
    currency: intent.currency,
    failure_code: failure?.code ?? null,
    failure_message: failure ? "Your card was declined." : null,
    metadata: { ...intent.metadata },
    paid: succeeded,
    payment_intent: intent.id,
    payment_method_details:
      paymentMethod === "card"
        ? { type: "card", card: { funding: "credit", last4: "4242" } }
        : { type: paymentMethod },
    refunded: false,
    status: succeeded ? "succeeded" : "failed",
    transfer_group: intent.transfer_group,
  } as unknown as Stripe.Charge);
  if (succeeded)
    created.balance_transaction = state.balance(
      created.id,
      "charge",
      "charge",
      created.amount,
      created.currency,
      true,
    ).id;
  intent.latest_charge = created.id;
  state.emit(succeeded ? "charge.succeeded" : "charge.failed", created);
  return created;
}

/** The money is in: the intent succeeds with a charge. */
function succeed(
  state: FakeStripeState,
  session: Session,
  intent: Stripe.PaymentIntent,
  paymentMethod: string,
): void {
  charge(state, intent, paymentMethod);
  intent.status = "succeeded";
  intent.amount_received = intent.amount;
  intent.last_payment_error = null;
  session.status = "complete";
  session.payment_status = "paid";
  state.emit("payment_intent.succeeded", intent);
}

/**
 * Plays the buyer on the hosted page (test control): a card that succeeds, is declined
 * (`generic_decline` / `insufficient_funds`, the session stays open for a retry) or is
 * confirmed asynchronously; or a bank payment (`processing` until {@link settleIntent}). Emits
 * the events Stripe sends, in its order.
 */
export function paySession(state: FakeStripeState, id: string, outcome: FakeOutcome): Session {
  const session = state.get<Session>("checkout.session", id);
  if (session.status !== "open")
    throw invalidRequest(`Session ${id} is ${session.status} and cannot be paid.`, "session_not_open");
  const offered = session.payment_method_types ?? [];
  const method = offered.includes("card") ? "card" : (offered[0] ?? "customer_balance");
  const intent = intentOf(state, session, method);
  if (outcome === "succeeded") {
    succeed(state, session, intent, method);
    state.emit("checkout.session.completed", session);
  } else if (outcome === "processing") {
    intent.status = "processing";
    intent.last_payment_error = null;
    session.status = "complete";
    state.emit("payment_intent.processing", intent);
    state.emit("checkout.session.completed", session);
  } else {
    const decline = outcome === "declined" ? "generic_decline" : "insufficient_funds";
    charge(state, intent, method, { code: "card_declined", decline });
    intent.status = "requires_payment_method";
    intent.last_payment_error = {
      type: "card_error",
      code: "card_declined",
      decline_code: decline,
      message: "Your card was declined.",
    } as Stripe.PaymentIntent.LastPaymentError;
    state.emit("payment_intent.payment_failed", intent);
  }
  return session;
}

/** The bank's side (test control): a processing payment's money arrives. */
export function settleIntent(state: FakeStripeState, sessionId: string): Session {
  const session = state.get<Session>("checkout.session", sessionId);
  const intent =
    typeof session.payment_intent === "string"
      ? state.get<Stripe.PaymentIntent>("payment_intent", session.payment_intent)
      : undefined;
  if (intent?.status !== "processing") {
    throw new FakeStripeError(400, {
      type: "invalid_request_error",
      message: `Session ${sessionId} has nothing processing.`,
    });
  }
  succeed(state, session, intent, intent.payment_method_types[0] ?? "card");
  state.emit("checkout.session.async_payment_succeeded", session);
  return session;
}
