export * from "./in-process-publisher.js";
export * from "./outbox.js";
