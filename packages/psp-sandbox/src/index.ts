/**
 * `@settlekit/psp-sandbox`: a payment service provider that runs inside the host's process, with
 * its own hosted payment page, test cards, bank transfers that settle after a delay, signed
 * webhooks, refunds, a daily settlement file and fault injection. It lets settlekit (and the
 * host's tests) run end to end with no PSP account and no credentials.
 */
export type { SandboxDisputeOptions, SandboxWinOptions } from "./disputes.js";
export type {
  SandboxDelivery,
  SandboxDisputeWire,
  SandboxEvent,
  SandboxEventBody,
  SandboxEventType,
  SandboxPaymentWire,
  SandboxPayoutWire,
  SandboxRefundWire,
} from "./events.js";
export type { PayoutFault, RegistrationFault, ReleaseOrder, SandboxFaults } from "./faults.js";
export { defaultFeePolicy } from "./fees.js";
export type { SandboxRequestHandler } from "./http/handler.js";
export type {
  SandboxDisputeFeePolicy,
  SandboxFeePolicy,
  SandboxLogger,
  SandboxOptions,
  SandboxWebhookRetry,
} from "./options.js";
export type { SandboxPayOptions } from "./payment-attempt.js";
export type {
  SandboxDispute,
  SandboxPayment,
  SandboxPayout,
  SandboxPayoutReversal,
  SandboxRefund,
} from "./records.js";
export { sandboxProvider } from "./sandbox-provider.js";
export type { RemoteSandboxOptions, RemoteSandboxProvider } from "./server/remote.js";
export { remoteSandboxProvider } from "./server/remote.js";
export type { SandboxServer, SandboxServerOptions } from "./server/server.js";
export { startSandboxServer } from "./server/server.js";
export type { SettlementRow } from "./settlement-csv.js";
export { SETTLEMENT_CSV_HEADER } from "./settlement-csv.js";
export { SANDBOX_SIGNATURE_HEADER, signSandboxWebhook, verifySandboxSignature } from "./signature.js";
export type { CardInput, TestCardBehaviour } from "./test-cards.js";
export { TEST_CARDS } from "./test-cards.js";
export type { SandboxProvider } from "./types.js";
export { WebhookDeliveryError } from "./webhook-delivery-error.js";
