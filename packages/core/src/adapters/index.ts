/** Helpers the adapters (PSP providers, the router) share, written once. */
export { passesLuhn } from "./card-number.js";
export { requireRequestFields } from "./request-fields.js";
export { withPaymentId } from "./success-url.js";
