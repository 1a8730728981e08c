import type { Logger } from "../ports/logger.js";

/** The default {@link Logger}: `console.warn` / `console.error`, prefixed `[settlekit]`. */
export const consoleLogger: Logger = {
  warn: (message, details) =>
    details ? console.warn(`[settlekit] ${message}`, details) : console.warn(`[settlekit] ${message}`),
  error: (message, details) =>
    details ? console.error(`[settlekit] ${message}`, details) : console.error(`[settlekit] ${message}`),
};
