export * from "./adapters/index.js";
export * from "./alerts/index.js";
export * from "./background/index.js";
export type { ClawbackPolicy, Deps, PaymentSystemOptions, Settings } from "./deps.js";
export * from "./domain/index.js";
export type { NextAction } from "./domain/next-action.js";
export { nextAction } from "./domain/next-action.js";
export * from "./errors.js";
export * from "./idempotency/index.js";
export * from "./jobs/index.js";
export * from "./ledger/index.js";
export * from "./money/index.js";
export * from "./outbox/index.js";
export * from "./ports/index.js";
export type {
  CreatePaymentResult,
  CreateRefundResult,
  DeadLetter,
  Page,
  PaymentDetails,
  PaymentEvent,
  PayoutDetails,
  PayoutSkipReason,
  PendingRelease,
  RequestPayoutResult,
  SellerWallet,
  WalletBalance,
  WalletTransaction,
  WalletTransactionType,
} from "./results.js";
export * from "./runtime/index.js";
export * from "./services/index.js";
export type { PaymentSystem, PayoutRequestOptions } from "./system.js";
export { createPaymentSystem } from "./system.js";
export * from "./views/index.js";
