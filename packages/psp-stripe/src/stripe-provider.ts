import type { PaymentProvider, ProviderCapabilities } from "@settlekit/core";
import { readBalanceTransactions } from "./balance-transactions.js";
import { expireCheckoutSession } from "./cancel.js";
import { call } from "./errors.js";
import type { StripeProviderOptions } from "./options.js";
import { resolveOptions } from "./options.js";
import { toRetrievedPayment } from "./payment-status.js";
import { retrieveTransfer, retrieveTransferReversal, reverseTransfer, transferToSeller } from "./payouts.js";
import { refundSession, retrieveStripeRefund } from "./refunds.js";
import { createCheckoutSession } from "./registration.js";
import { parseStripeWebhook } from "./webhooks.js";

/** The Stripe `PaymentProvider` (id `stripe`), with payouts when a connected-account resolver is given. */
export interface StripeProvider extends PaymentProvider {
  readonly id: "stripe";
  cancelHostedPayment: NonNullable<PaymentProvider["cancelHostedPayment"]>;
  payout: NonNullable<PaymentProvider["payout"]>;
  retrievePayout: NonNullable<PaymentProvider["retrievePayout"]>;
  reversePayout: NonNullable<PaymentProvider["reversePayout"]>;
  retrievePayoutReversal: NonNullable<PaymentProvider["retrievePayoutReversal"]>;
  readSettlement: NonNullable<PaymentProvider["readSettlement"]>;
}

/**
 * Creates the Stripe provider over a client the host built:
 *
 * ```ts
 * const stripe = stripeProvider({
 *   client: new Stripe(process.env.STRIPE_SECRET_KEY!),
 *   webhookSecret: process.env.STRIPE_WEBHOOK_SECRET!.split(","),
 *   connectedAccount: (sellerId) => sellers.stripeAccountOf(sellerId),
 * });
 * ```
 *
 * Payments are hosted Checkout Sessions (the session id is the `pspReference`); webhooks are
 * verified with `stripe.webhooks.constructEvent`; refunds are Stripe Refunds; a hosted attempt is
 * closed by expiring its session (`checkout.sessions.expire`); payouts are Connect
 * transfers (found again by listing the seller's transfers, taken back by transfer reversals); settlement records come from balance transactions (or, offline, from
 * `parseReconciliationReport`). Every mutating call carries settlekit's idempotency key.
 */
export function stripeProvider(options: StripeProviderOptions): StripeProvider {
  const resolved = resolveOptions(options);
  const capabilities: ProviderCapabilities = Object.freeze({
    methods: Object.freeze(["card", "bank_transfer"] as const),
    currencies: "any",
    refunds: true,
    partialRefunds: true,
    payouts: resolved.connectedAccount !== undefined,
    payoutReversals: resolved.connectedAccount !== undefined,
    settlementReports: true,
    cancelHostedPayments: true,
    disputes: true,
  });
  return {
    id: "stripe",
    capabilities,
    createHostedPayment: (input) => createCheckoutSession(resolved, input),
    async retrievePayment({ pspReference }) {
      const session = await call("Retrieving the Checkout Session", () =>
        resolved.client.checkout.sessions.retrieve(pspReference, {
          expand: ["payment_intent.latest_charge"],
        }),
      );
      return toRetrievedPayment(session);
    },
    parseWebhook: (input) => parseStripeWebhook(resolved, input),
    refund: (input) => refundSession(resolved, input),
    retrieveRefund: (input) => retrieveStripeRefund(resolved, input),
    cancelHostedPayment: (input) => expireCheckoutSession(resolved, input),
    payout: (input) => transferToSeller(resolved, input),
    retrievePayout: (input) => retrieveTransfer(resolved, input),
    reversePayout: (input) => reverseTransfer(resolved, input),
    retrievePayoutReversal: (input) => retrieveTransferReversal(resolved, input),
    readSettlement: (query) => readBalanceTransactions(resolved, query),
  };
}
