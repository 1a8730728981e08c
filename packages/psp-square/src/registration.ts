import type { CreateHostedPaymentInput, HostedPayment } from "@settlekit/core";
import { PspError, requireRequestFields, withPaymentId } from "@settlekit/core";
import type { Square } from "square";
import { call, rejected } from "./errors.js";
import type { ResolvedSquareOptions } from "./options.js";

/** Metadata keys on the order and its line items (Square keeps them; the dashboard shows them). */
export const META = {
  paymentId: "settlekit_payment_id",
  paymentOrderId: "settlekit_payment_order_id",
  sellerId: "settlekit_seller_id",
} as const;

/** Square's limit on `order.reference_id`. */
const REFERENCE_ID_MAX = 40;

/**
 * Refuses, before any call, what Square would refuse or could not represent: the checks every
 * adapter makes (`requireRequestFields`), orders summing to the amount, the location's currency
 * only, and ACH (`bank_transfer`) only in USD.
 */
export function checkRegistration(options: ResolvedSquareOptions, input: CreateHostedPaymentInput): void {
  requireRequestFields(input, ["paymentId", "successUrl"], { currency: true });
  if (input.currency !== options.currency) {
    throw rejected(
      `Square takes payments at location ${options.locationId} in ${options.currency} only (its currency), not ${input.currency}.`,
      "currency",
      "currency_not_supported",
    );
  }
  if (input.paymentId.length > REFERENCE_ID_MAX) {
    throw rejected(
      `paymentId is longer than Square's reference_id (${REFERENCE_ID_MAX} characters).`,
      "paymentId",
    );
  }
  if (!Array.isArray(input.orders) || input.orders.length === 0)
    throw rejected("orders must not be empty.", "orders");
  let sum = 0n;
  for (const order of input.orders) {
    if (typeof order.amount !== "bigint" || order.amount <= 0n) {
      throw rejected("Every payment order needs a positive bigint amount.", "orders");
    }
    sum += order.amount;
  }
  if (sum !== input.amount) throw rejected(`orders sum to ${sum}, not the amount ${input.amount}.`, "orders");
  if (input.method === "bank_transfer" && input.currency !== "USD") {
    throw rejected("Square's bank transfers (ACH) are US payments in USD only.", "method");
  }
}

/** The `checkout.paymentLinks.create` request: one line item per payment order, the payment id as reference. */
export function paymentLinkRequest(
  options: ResolvedSquareOptions,
  input: CreateHostedPaymentInput,
): Square.checkout.CreatePaymentLinkRequest {
  const currency = input.currency as Square.Currency;
  return {
    idempotencyKey: input.idempotencyKey,
    order: {
      locationId: options.locationId,
      referenceId: input.paymentId,
      metadata: { [META.paymentId]: input.paymentId },
      lineItems: input.orders.map((order) => ({
        name: order.description || `Order ${order.paymentOrderId}`,
        quantity: "1",
        basePriceMoney: { amount: order.amount, currency },
        metadata: { [META.paymentOrderId]: order.paymentOrderId, [META.sellerId]: order.sellerId },
      })),
    },
    checkoutOptions: { redirectUrl: withPaymentId(input.successUrl, input.paymentId), allowTipping: false },
  };
}

/**
 * Registers the payment as a Square payment link. The `pspReference` is the link's order id
 * (`payment_link.order_id`): every payment Square takes on the page carries it (`payment.order_id`),
 * so webhooks, `retrievePayment` and refunds find the payment by it. The hosted page is the link's `url`.
 */
export async function createPaymentLink(
  options: ResolvedSquareOptions,
  input: CreateHostedPaymentInput,
): Promise<HostedPayment> {
  checkRegistration(options, input);
  const response = await call("Creating the Square payment link", () =>
    options.client.checkout.paymentLinks.create(paymentLinkRequest(options, input)),
  );
  const link = response.paymentLink;
  if (!link?.orderId || !link.url) {
    throw new PspError(
      "PSP_TIMEOUT",
      "indeterminate",
      "Square answered a payment link without order_id or url.",
      {
        pspCode: "malformed_response",
      },
    );
  }
  return { pspReference: link.orderId, redirectUrl: link.url, status: "requires_payment" };
}
