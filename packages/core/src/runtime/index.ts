/** The default implementations of core's ports (clock, ids, logger, fee policies, FX rates) and the PSP error. */
export * from "./clock.js";
export * from "./fees.js";
export * from "./fx-rates.js";
export * from "./ids.js";
export * from "./logger.js";
export * from "./psp-error.js";
