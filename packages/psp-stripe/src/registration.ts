import type { CreateHostedPaymentInput, HostedPayment, PaymentMethod } from "@settlekit/core";
import { PAYMENT_METHODS, withCheckoutId } from "@settlekit/core";
import type Stripe from "stripe";
import { stripeCurrency, toStripeAmount } from "./currency.js";
import { call, rejected, requireRequestFields } from "./errors.js";
import { fromUnix, META } from "./metadata.js";
import type { ResolvedStripeOptions } from "./options.js";

const MINUTE = 60_000;
/**
 * Stripe accepts `expires_at` 30 minutes to 24 hours after the session's creation; a minute of
 * margin on each side absorbs the time the request takes and clock skew.
 */
const EARLIEST_EXPIRY_MS = 31 * MINUTE;
const LATEST_EXPIRY_MS = 24 * 60 * MINUTE - MINUTE;

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
  requireRequestFields(input, ["checkoutId"], { currency: true });
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

/**
 * The session's `expires_at`: the checkout's deadline, kept inside Stripe's window. A deadline
 * already past is refused; one closer than 30 minutes is moved to 30 minutes (the sweeper still
 * expires the checkout at its own deadline); one beyond 24 hours is brought to 24 hours (the
 * buyer retries on a new page after that).
 */
function expiresAt(input: CreateHostedPaymentInput, now: Date): number {
  const earliest = now.getTime() + EARLIEST_EXPIRY_MS;
  const latest = now.getTime() + LATEST_EXPIRY_MS;
  const wanted = input.expiresAt?.getTime() ?? latest;
  if (wanted <= now.getTime()) throw rejected("expiresAt must be in the future.", "expiresAt");
  return Math.floor(Math.min(Math.max(wanted, earliest), latest) / 1000);
}

/** The Checkout Session request for a registration: one line item per payment order. */
export function sessionParams(
  input: CreateHostedPaymentInput,
  options: ResolvedStripeOptions,
): Stripe.Checkout.SessionCreateParams {
  validate(input);
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
    success_url: withCheckoutId(input.successUrl, input.checkoutId),
    cancel_url: input.cancelUrl,
    client_reference_id: input.checkoutId,
    metadata: { ...input.metadata, [META.checkoutId]: input.checkoutId },
    // The PaymentIntent (and its charge) carry the checkout too: reports and refunds find it there.
    // `transfer_group` ties the sellers' Connect transfers to this payment.
    payment_intent_data: {
      metadata: { [META.checkoutId]: input.checkoutId },
      transfer_group: input.checkoutId,
    },
    expires_at: expiresAt(input, options.clock.now()),
    ...paymentMethods(input.method, input.currency, options),
  };
}

/** `createHostedPayment`: a hosted Checkout Session, created once per idempotency key. */
export async function createCheckoutSession(
  options: ResolvedStripeOptions,
  input: CreateHostedPaymentInput,
): Promise<HostedPayment> {
  const params = sessionParams(input, options);
  const session = await call("Creating the Checkout Session", () =>
    options.client.checkout.sessions.create(params, { idempotencyKey: input.idempotencyKey }),
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
