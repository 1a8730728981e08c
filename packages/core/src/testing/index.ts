/**
 * `@settlekit/core/testing`: the conformance suites every adapter runs (vitest required).
 */

export type {
  CapturedWebhook,
  PaymentOutcome,
  ProviderConformanceOptions,
  ProviderHarness,
  SignOptions,
} from "./provider/harness.js";
export { runProviderConformance } from "./provider/run-provider-conformance.js";
export type { StoreConformanceOptions, StoreHarness, StoreInspector, StoreTable } from "./store/harness.js";
export { runStoreConformance } from "./store/run-store-conformance.js";
