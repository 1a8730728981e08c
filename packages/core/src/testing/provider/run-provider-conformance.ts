import { afterEach, beforeEach, describe } from "vitest";
import { cancelSuite } from "./cancel-suite.js";
import { disputeSuite } from "./dispute-suite.js";
import type { ProviderConformanceOptions, ProviderHarness } from "./harness.js";
import { payoutSuite } from "./payout-suite.js";
import { refundSuite } from "./refund-suite.js";
import { registrationFaultsSuite } from "./registration-faults-suite.js";
import { registrationSuite } from "./registration-suite.js";
import { retrieveSuite } from "./retrieve-suite.js";
import { settlementSuite } from "./settlement-suite.js";
import { webhookEventsSuite } from "./webhook-events-suite.js";
import { webhookSignatureSuite } from "./webhook-signature-suite.js";

/** Stripe's codes, which the sandbox uses too. */
const DEFAULT_FAILURE_CODES = { declined: "card_declined", insufficientFunds: "insufficient_funds" };

/**
 * The suite every `PaymentProvider` adapter must pass, registered as vitest tests. Each test gets
 * a fresh provider and its drivers from `makeProvider` (see {@link ProviderHarness}); the drivers
 * play the buyer, the bank and the network against the PSP or its fake, and read back what the
 * PSP holds, so the adapter is checked against the PSP rather than against itself.
 *
 * Covered: registration (answer, idempotency by key, invalid input), registration failures
 * (a refusal before processing → retryable, lost answer → indeterminate and recoverable with the same key), webhook
 * normalisation (succeeded, declines with the PSP's codes, processing → succeeded, retry after a
 * decline, expiry, unknown types), signature checks (missing, malformed, wrong secret, replayed,
 * tampered), `retrievePayment` through every state, refunds (partial, full, over-refund,
 * idempotency, refusals), closing hosted attempts (open and declined ones closed for good and
 * idempotently; paid and in-flight ones left alone and reported; unknown; unreachable), payouts
 * (once per key and per payout id, refusals; `retrievePayout` finding what was made and only that;
 * a lost answer, a refusal before processing and a refused account, with nothing paid twice; a
 * paid payout failing afterwards; PSP reversals and `reversePayout`, partial, never more than the
 * payout, once per key), settlement records (charge, refund and payout
 * amounts exact, stable reads, windows) and disputes (opened, won, lost; money withdrawn and
 * reinstated exact; no refund of disputed money). Tests needing an optional capability skip when
 * the provider's `capabilities` say it lacks it.
 *
 * ```ts
 * runProviderConformance({ name: "sandbox", makeProvider: async () => ({ provider, pay, settle, … }) });
 * ```
 */
export function runProviderConformance(options: ProviderConformanceOptions): void {
  const codes = options.failureCodes ?? DEFAULT_FAILURE_CODES;
  const largeAmount = options.largeAmount ?? 9_007_199_254_740_993n;
  describe(`PaymentProvider conformance: ${options.name}`, () => {
    let harness: ProviderHarness | undefined;
    beforeEach(async () => {
      harness = await options.makeProvider();
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });
    const current = (): ProviderHarness => {
      if (!harness) throw new Error("provider harness not ready");
      return harness;
    };
    registrationSuite(current, largeAmount);
    registrationFaultsSuite(current);
    webhookEventsSuite(current, codes);
    webhookSignatureSuite(current, options.signedTimestamps ?? true);
    retrieveSuite(current, codes);
    refundSuite(current, largeAmount);
    cancelSuite(current);
    payoutSuite(current);
    settlementSuite(current);
    disputeSuite(current);
  });
}
