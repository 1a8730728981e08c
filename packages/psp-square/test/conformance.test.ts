import { runProviderConformance } from "@settlekit/core/testing";
import { squareHarness } from "./support/harness.js";

runProviderConformance({
  name: "square (fake server)",
  makeProvider: squareHarness,
  // Square's decline codes (payment.card_details.errors[].code).
  failureCodes: { declined: "GENERIC_DECLINE", insufficientFunds: "INSUFFICIENT_FUNDS" },
  // Square signs the notification URL and the body, no time: a replay is caught by event-id dedupe.
  signedTimestamps: false,
});
