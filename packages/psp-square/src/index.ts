/**
 * `@settlekit/psp-square`: settlekit's `PaymentProvider` on Square — payment links, verified
 * webhooks, refunds (card and ACH) and settlement records from payouts. Built on the official
 * `square` package (v46, a peer dependency) over a `SquareClient` the host creates.
 */
export { toPspError } from "./errors.js";
export { parseExactJson, stringifyExactJson } from "./json.js";
export type { SquareProviderOptions } from "./options.js";
export { META as SQUARE_METADATA_KEYS } from "./registration.js";
export type { SquareProvider } from "./square-provider.js";
export { squareProvider } from "./square-provider.js";
export { SIGNATURE_HEADER, squareSignature } from "./webhooks.js";
