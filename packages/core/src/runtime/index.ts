/** The default implementations of core's ports (clock, ids, logger, fee policies) and the PSP error. */
export * from "./clock.js";
export * from "./fees.js";
export * from "./ids.js";
export * from "./logger.js";
export * from "./psp-error.js";
