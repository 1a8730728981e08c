import type { PaymentProvider, ProviderCapabilities } from "@settlekit/core";
import type { SquareProviderOptions } from "./options.js";
import { resolveOptions } from "./options.js";
import { retrieveOrderPayment } from "./payments.js";
import { refundOrderPayment, retrieveSquareRefund } from "./refunds.js";
import { createPaymentLink } from "./registration.js";
import { readPayoutEntries } from "./settlement.js";
import { parseSquareWebhook } from "./webhooks.js";

/** The Square `PaymentProvider` (id `square`): no `payout` (Square pays no marketplace sellers), no `cancelHostedPayment`. */
export interface SquareProvider extends PaymentProvider {
  readonly id: "square";
  readSettlement: NonNullable<PaymentProvider["readSettlement"]>;
}

/**
 * Creates the Square provider over a client the host built:
 *
 * ```ts
 * const square = squareProvider({
 *   client: new SquareClient({ token: process.env.SQUARE_ACCESS_TOKEN, environment: SquareEnvironment.Sandbox, maxRetries: 0 }),
 *   locationId: process.env.SQUARE_LOCATION_ID!,
 *   currency: "USD",
 *   webhookSignatureKey: process.env.SQUARE_WEBHOOK_SIGNATURE_KEY!,
 *   notificationUrl: "https://shop.example/webhooks/square",
 * });
 * ```
 *
 * Payments are payment links (`checkout.paymentLinks.create`); the link's order id is the
 * `pspReference`. Webhooks are verified over the notification URL and the raw body; refunds are
 * `refunds.refundPayment`; settlement records come from payouts and their entries.
 */
export function squareProvider(options: SquareProviderOptions): SquareProvider {
  const resolved = resolveOptions(options);
  const capabilities: ProviderCapabilities = Object.freeze({
    // ACH bank transfers are US payments: offered only at a USD location.
    methods: Object.freeze(
      resolved.currency === "USD" ? (["card", "bank_transfer"] as const) : (["card"] as const),
    ),
    currencies: Object.freeze([resolved.currency]),
    refunds: true,
    partialRefunds: true,
    // Square's disputes API exists, but this adapter does not report disputes yet.
    disputes: false,
    // Square has no marketplace payouts to sellers: settlekit cannot pay sellers through it.
    payouts: false,
    settlementReports: true,
    // A payment link cannot be closed by this adapter yet (a capture after expiry is refunded by core).
    cancelHostedPayments: false,
  });
  return {
    id: "square",
    capabilities,
    createHostedPayment: (input) => createPaymentLink(resolved, input),
    retrievePayment: ({ pspReference }) => retrieveOrderPayment(resolved, pspReference),
    parseWebhook: async (input) => parseSquareWebhook(resolved, input),
    refund: (input) => refundOrderPayment(resolved, input),
    retrieveRefund: (input) => retrieveSquareRefund(resolved, input),
    readSettlement: (query) => readPayoutEntries(resolved, query),
  };
}
