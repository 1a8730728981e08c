import { runProviderConformance } from "@settlekit/core/testing";
import { stripeHarness } from "./support/harness.js";

runProviderConformance({
  name: "stripe (fake server)",
  makeProvider: stripeHarness,
  // Stripe's decline codes: a generic decline is `generic_decline` (its error code is `card_declined`).
  failureCodes: { declined: "generic_decline", insufficientFunds: "insufficient_funds" },
  // Stripe's ceiling for USD: 8 digits of cents ($999,999.99).
  largeAmount: 99_999_999n,
});
