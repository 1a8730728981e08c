/** Helpers the adapters (PSP providers, the router) share, written once. */
export { passesLuhn } from "./card-number.js";
export { callPsp, rejectedRequest, transportFailure } from "./psp-calls.js";
export { requireRequestFields } from "./request-fields.js";
export { withPaymentId } from "./success-url.js";
export type { TimestampedSignatureCheck } from "./timestamped-signature.js";
export { checkTimestamped, signTimestamped } from "./timestamped-signature.js";
