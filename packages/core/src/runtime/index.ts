/** The default implementations of core's ports (clock, ids, logger, fee policies, FX rates), the PSP error, the store health check. */
export * from "./clock.js";
export * from "./fees.js";
export * from "./fx-rates.js";
export * from "./ids.js";
export * from "./logger.js";
export * from "./psp-error.js";
export * from "./store-health.js";
