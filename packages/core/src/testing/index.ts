/**
 * `@settlekit/core/testing`: the conformance suites every adapter runs (vitest required), and the
 * payment and order fixtures they use, for an adapter's own extra tests, and `memoryStore()`,
 * an in-memory `Store` that passes the store suite (for fast tests of code built on settlekit), and
 * `tcpProxy()`, a loopback TCP proxy that breaks connections the way failovers and crashes do.
 */

export type { AlertSinkConformanceOptions, AlertSinkHarness, DeliveredAlert } from "./alerts/harness.js";
export { alertFixture, runAlertSinkConformance } from "./alerts/run-alert-sink-conformance.js";
export type { FxPair, FxRatesHarness } from "./fx/harness.js";
export { runFxRatesConformance } from "./fx/run-fx-rates-conformance.js";
export type { BalanceShards } from "./memory/ledger.js";
export type { MemoryStore, MemoryStoreOptions } from "./memory/memory-store.js";
export { memoryStore } from "./memory/memory-store.js";
export type {
  CapturedWebhook,
  PaymentOutcome,
  ProviderConformanceOptions,
  ProviderHarness,
  SignOptions,
} from "./provider/harness.js";
export { runProviderConformance } from "./provider/run-provider-conformance.js";
export { outboxEventFixture } from "./publisher/fixtures.js";
export type { DeliveredEvent, PublisherConformanceOptions, PublisherHarness } from "./publisher/harness.js";
export { runPublisherConformance } from "./publisher/run-publisher-conformance.js";
export { seededRandom } from "./seeded-random.js";
export type { StoreConformanceOptions, StoreHarness, StoreInspector, StoreTable } from "./store/harness.js";
export { orderFixture, paymentFixture } from "./store/payments-suite.js";
export { payoutFixture, payoutLineFixture, sellerPayoutAccountFixture } from "./store/payouts-suite.js";
export {
  reconciliationItemFixture,
  runFixture as reconciliationRunFixture,
} from "./store/reconciliation-suite.js";
export { runStoreConformance } from "./store/run-store-conformance.js";
export type { ChunkVerdict, ProxyTarget, TcpProxy, TcpProxyOptions } from "./tcp-proxy.js";
export { tcpProxy } from "./tcp-proxy.js";
