/**
 * `@settlekit/psp-stripe`: settlekit's `PaymentProvider` on Stripe — hosted Checkout Sessions,
 * verified webhooks, refunds, Connect transfers to sellers and settlement records from balance
 * transactions or the itemized payout reconciliation report. Built on the official `stripe`
 * package (a peer dependency) over a client the host creates.
 */
export { fromStripeAmount, stripeExponent, toStripeAmount } from "./currency.js";
export { toPspError } from "./errors.js";
export { META as STRIPE_METADATA_KEYS } from "./metadata.js";
export type { ConnectedAccountResolver, StripeProviderOptions } from "./options.js";
export { EU_BANK_TRANSFER_COUNTRIES } from "./options.js";
export { majorToMinor, parseReconciliationReport, withReversedTransfers } from "./reconciliation-report.js";
export type { StripeProvider } from "./stripe-provider.js";
export { stripeProvider } from "./stripe-provider.js";
