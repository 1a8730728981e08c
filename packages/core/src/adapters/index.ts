/** Helpers the adapters (PSP providers, the router) share, written once. */
export { passesLuhn } from "./card-number.js";
export { withCheckoutId } from "./success-url.js";
