export * from "./domain/index.js";
export * from "./errors.js";
export * from "./idempotency/index.js";
export * from "./jobs/index.js";
export * from "./ledger/index.js";
export * from "./money/index.js";
export * from "./outbox/index.js";
export * from "./ports/index.js";
