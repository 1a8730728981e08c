export * from "./clock.js";
export * from "./events.js";
export * from "./idempotency.js";
export * from "./ids.js";
export type * from "./jobs.js";
export type * from "./json.js";
export type * from "./ledger.js";
export type * from "./outbox.js";
export type * from "./store.js";
