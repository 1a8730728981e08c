/**
 * `@settlekit/core/testing`: the conformance suites every adapter runs (vitest required).
 */
export type { StoreConformanceOptions, StoreHarness, StoreInspector, StoreTable } from "./store/harness.js";
export { runStoreConformance } from "./store/run-store-conformance.js";
