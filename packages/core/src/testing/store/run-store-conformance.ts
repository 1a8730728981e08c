import { afterEach, beforeEach, describe } from "vitest";
import { concurrencySuite } from "./concurrency-suite.js";
import { dailyTasksSuite } from "./daily-tasks-suite.js";
import { disputesSuite } from "./disputes-suite.js";
import type { StoreConformanceOptions, StoreHarness } from "./harness.js";
import { healthSuite } from "./health-suite.js";
import { idempotencySuite } from "./idempotency-suite.js";
import { jobsSuite } from "./jobs-suite.js";
import { ledgerPropertiesSuite } from "./ledger-properties-suite.js";
import { ledgerSuite } from "./ledger-suite.js";
import { outboxOrderSuite } from "./outbox-order-suite.js";
import { outboxSuite } from "./outbox-suite.js";
import { paymentsSuite } from "./payments-suite.js";
import { payoutsSuite } from "./payouts-suite.js";
import { reconciliationSuite } from "./reconciliation-suite.js";
import { transactionSuite } from "./transaction-suite.js";
import { workersSuite } from "./workers-suite.js";

/**
 * The suite every `Store` adapter must pass, registered as vitest tests. Each test gets a fresh
 * empty store from `makeStore` and checks through raw read-back (`inspect`) where it can.
 *
 * ```ts
 * runStoreConformance({ name: "knex/sqlite", makeStore: async () => ({ store, inspect, cleanup }) });
 * ```
 */
export function runStoreConformance(options: StoreConformanceOptions): void {
  const concurrency = options.concurrency ?? 64;
  describe(`Store conformance: ${options.name}`, () => {
    let harness: StoreHarness | undefined;
    beforeEach(async () => {
      harness = await options.makeStore();
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });
    const current = (): StoreHarness => {
      if (!harness) throw new Error("store harness not ready");
      return harness;
    };
    transactionSuite(current);
    ledgerSuite(current);
    concurrencySuite(current, options);
    outboxSuite(current, concurrency);
    outboxOrderSuite(current, concurrency);
    jobsSuite(current, concurrency);
    idempotencySuite(current, concurrency);
    paymentsSuite(current, concurrency);
    disputesSuite(current, concurrency);
    payoutsSuite(current, concurrency);
    reconciliationSuite(current);
    workersSuite(current);
    dailyTasksSuite(current, concurrency);
    healthSuite(current);
    ledgerPropertiesSuite(current, options.propertyRuns ?? 50);
  });
}
