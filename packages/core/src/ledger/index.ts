export * from "./accounts.js";
export * from "./dispute-journals.js";
export * from "./journal-rules.js";
export * from "./ledger.js";
export * from "./post-journal.js";
export * from "./types.js";
