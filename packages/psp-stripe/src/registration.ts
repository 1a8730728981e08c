import type { CreateHostedPaymentInput, HostedPayment, PaymentMethod } from "@settlekit/core";
import { PAYMENT_METHODS, requireRequestFields, withPaymentId } from "@settlekit/core";
import type Stripe from "stripe";
import { stripeCurrency, toStripeAmount } from "./currency.js";
import { call, rejected } from "./errors.js";
import { fromUnix, META } from "./metadata.js";
import { checkStripeMetadata } from "./metadata-limits.js";
import type { ResolvedStripeOptions } from "./options.js";

const MINUTE = 60_000;
/**
 * Stripe accepts `expires_at` 30 minutes to 24 hours after the session's creation; a minute of
 * margin on each side absorbs the time the request takes and clock skew.
 */
const EARLIEST_EXPIRY_MS = 31 * MINUTE;
const LATEST_EXPIRY_MS = 24 * 60 * MINUTE - MINUTE;
/** An `expires_at` still this far ahead is one Stripe takes for a new session (30 min + 15 s). */
const STILL_VALID_MS = 30 * MINUTE + 15_000;
/** The width of the windows a registration is re-based on once its own window has passed. */
export const REBASE_STEP_MS = 5 * MINUTE;

type AllowedType = Stripe.Checkout.SessionCreateParams.AllowedPaymentMethodType;

/** Currencies Stripe's `customer_balance` bank transfers settle in, and the transfer type of each. */
const BANK_TRANSFER_TYPES: Readonly<
  Record<
    string,
    "us_bank_transfer" | "gb_bank_transfer" | "jp_bank_transfer" | "mx_bank_transfer" | "eu_bank_transfer"
  >
> = {
  USD: "us_bank_transfer",
  GBP: "gb_bank_transfer",
  JPY: "jp_bank_transfer",
  MXN: "mx_bank_transfer",
  EUR: "eu_bank_transfer",
};

/**
 * What the buyer may pay with. Since API `2026-09-30.endive` Checkout takes
 * `allowed_payment_method_types` (a filter Stripe narrows further by currency, amount and the
 * Dashboard's settings); the old `payment_method_types` is refused with 400
 * `payment_method_types_no_longer_supported`.
 * - `card`: cards, credit and debit.
 * - `bank_transfer`: Stripe's bank transfers to a virtual account (`customer_balance`), plus the
 *   bank debit of the currency — ACH (`us_bank_account`) in USD, SEPA (`sepa_debit`) in EUR.
 */
function paymentMethods(
  method: PaymentMethod,
  currency: string,
  options: ResolvedStripeOptions,
): Pick<
  Stripe.Checkout.SessionCreateParams,
  "allowed_payment_method_types" | "payment_method_options" | "customer_creation"
> {
  if (method === "card") return { allowed_payment_method_types: ["card"] };
  const types: AllowedType[] = [];
  const transfer = BANK_TRANSFER_TYPES[currency];
  const euCountry = options.euBankTransferCountry;
  const bankTransfer = transfer !== undefined && (transfer !== "eu_bank_transfer" || euCountry !== undefined);
  if (bankTransfer) types.push("customer_balance");
  if (currency === "USD") types.push("us_bank_account");
  if (currency === "EUR") types.push("sepa_debit");
  if (types.length === 0) {
    throw rejected(
      `Stripe offers no bank transfer or bank debit in ${currency}.`,
      "method",
      "payment_method_unavailable",
    );
  }
  if (!bankTransfer) return { allowed_payment_method_types: types };
  return {
    allowed_payment_method_types: types,
    payment_method_options: {
      customer_balance: {
        funding_type: "bank_transfer",
        bank_transfer:
          transfer === "eu_bank_transfer"
            ? { type: transfer, eu_bank_transfer: { country: euCountry! } }
            : { type: transfer! },
      },
    },
    // A bank transfer credits a customer's cash balance: Checkout needs a Customer for it.
    customer_creation: "always",
  };
}

/** Input checks made before anything is sent (nothing is registered on failure). */
function validate(input: CreateHostedPaymentInput): void {
  requireRequestFields(input, ["paymentId"], { currency: true });
  if (!PAYMENT_METHODS.includes(input.method))
    throw rejected(`Unknown method ${String(input.method)}.`, "method");
  if (!Array.isArray(input.orders) || input.orders.length === 0) {
    throw rejected("At least one order is required.", "orders");
  }
  let total = 0n;
  input.orders.forEach((order, i) => {
    if (typeof order.amount !== "bigint" || order.amount <= 0n) {
      throw rejected("Each order amount must be a positive bigint.", `orders.${i}.amount`);
    }
    total += order.amount;
  });
  if (total !== input.amount) {
    throw rejected(`Orders add up to ${total}, not to the amount ${input.amount}.`, "orders");
  }
}

/** The session's `expires_at` and the idempotency key it is sent under. */
interface Expiry {
  readonly expiresAt: number;
  readonly idempotencyKey: string;
}

const clamp = (wanted: number, base: number, earliest: number, latest: number) =>
  Math.floor(Math.min(Math.max(wanted, base + earliest), base + latest) / 1000);

/**
 * The session's `expires_at`: the payment's deadline, kept inside Stripe's window — one closer
 * than 31 minutes is moved to 31 minutes (the sweeper still closes the payment at its own
 * deadline), one beyond 24 hours is brought to 24 hours (the buyer retries on a new page after
 * that); a deadline already past is refused.
 *
 * Every parameter sent under an idempotency key must be the same on every retry: Stripe answers
 * 400 `idempotency_error` to a key reused with other parameters (also after a lost answer). So the
 * window is measured from the payment's `createdAt` — stored before the first call, the same for
 * every retry and every attempt — never from the clock at retry time.
 *
 * Once that window has passed (a retry or an attempt more than ~23.5 hours after creation, or a
 * short deadline retried more than ~45 seconds on), Stripe would refuse that `expires_at` for a
 * new session, so the key cannot register anything any more. The request is then re-based on a
 * window of {@link REBASE_STEP_MS} (`createdAt + k·step`, the first one starting after now) and
 * sent under the derived key `<key>:w<k>`, whose parameters are again fixed for that window. If the
 * lost first request did create a session, that one was never shown to anyone; it expires at
 * Stripe on its own and settlekit, which never recorded it, ignores its events.
 */
function expiry(input: CreateHostedPaymentInput, now: Date): Expiry {
  const base = input.createdAt instanceof Date ? input.createdAt.getTime() : Number.NaN;
  if (!Number.isFinite(base)) throw rejected("createdAt must be a valid date.", "createdAt");
  const wanted = input.expiresAt?.getTime() ?? base + LATEST_EXPIRY_MS;
  if (wanted <= now.getTime()) throw rejected("expiresAt must be in the future.", "expiresAt");
  const first = clamp(wanted, base, EARLIEST_EXPIRY_MS, LATEST_EXPIRY_MS);
  if (first * 1000 - now.getTime() >= STILL_VALID_MS) {
    return { expiresAt: first, idempotencyKey: input.idempotencyKey };
  }
  const k = Math.floor((now.getTime() - base) / REBASE_STEP_MS) + 1;
  const rebased = base + k * REBASE_STEP_MS;
  return {
    expiresAt: clamp(wanted, rebased, EARLIEST_EXPIRY_MS, LATEST_EXPIRY_MS - REBASE_STEP_MS),
    idempotencyKey: `${input.idempotencyKey}:w${k}`,
  };
}

/** The Checkout Session request for a registration: one line item per payment order. */
export function sessionParams(
  input: CreateHostedPaymentInput,
  options: ResolvedStripeOptions,
  expiresAt: number,
): Stripe.Checkout.SessionCreateParams {
  const currency = stripeCurrency(input.currency);
  return {
    mode: "payment",
    line_items: input.orders.map((order, i) => ({
      quantity: 1,
      price_data: {
        currency,
        unit_amount: toStripeAmount(order.amount, input.currency, { param: `orders.${i}.amount` }),
        product_data: {
          name: order.description || `Order ${order.paymentOrderId}`,
          metadata: { [META.paymentOrderId]: order.paymentOrderId, [META.sellerId]: order.sellerId },
        },
      },
    })),
    // The buyer comes back with settlekit's id, as from every settlekit PSP (see the port).
    success_url: withPaymentId(input.successUrl, input.paymentId),
    cancel_url: input.cancelUrl,
    client_reference_id: input.paymentId,
    metadata: { ...input.metadata, [META.paymentId]: input.paymentId },
    // The PaymentIntent (and its charge) carry the payment too: reports and refunds find it there.
    // `transfer_group` ties the sellers' Connect transfers to this payment.
    payment_intent_data: {
      metadata: { [META.paymentId]: input.paymentId },
      transfer_group: input.paymentId,
    },
    expires_at: expiresAt,
    ...paymentMethods(input.method, input.currency, options),
  };
}

/** `createHostedPayment`: a hosted Checkout Session, created once per idempotency key. */
export async function createCheckoutSession(
  options: ResolvedStripeOptions,
  input: CreateHostedPaymentInput,
): Promise<HostedPayment> {
  validate(input);
  const { expiresAt, idempotencyKey } = expiry(input, options.clock.now());
  const params = sessionParams(input, options, expiresAt);
  checkStripeMetadata(params.metadata ?? {});
  const session = await call("Creating the Checkout Session", () =>
    options.client.checkout.sessions.create(params, { idempotencyKey }),
  );
  if (!session.url)
    throw rejected(`Checkout Session ${session.id} has no hosted page URL.`, "url", "malformed_response");
  return {
    pspReference: session.id,
    redirectUrl: session.url,
    status: "requires_payment",
    expiresAt: fromUnix(session.expires_at),
  };
}
