/**
 * `@settlekit/psp-stripe/testing`: a fake Stripe API server for tests and demos (no network, no
 * account), speaking the wire format of the endpoints this adapter uses, with a test-control API
 * that plays the buyer, the bank and Stripe's payout schedule.
 */
export type { FakeOutcome } from "./checkout.js";
export { MAX_AMOUNT } from "./checkout.js";
export { DISPUTE_FEE } from "./disputes.js";
export type { FakeFault, FakeStripeOptions, RecordedRequest } from "./fake-stripe.js";
export { API_VERSION, FakeStripe } from "./fake-stripe.js";
export type { Form, FormValue } from "./form.js";
export { parseForm } from "./form.js";
export { IDEMPOTENCY_KEY_TTL_MS } from "./idempotency.js";
export { REPORT_COLUMNS } from "./money.js";
