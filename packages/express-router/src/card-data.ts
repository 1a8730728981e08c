/**
 * Card data must never reach settlekit (the PSP's hosted page collects it): a body that carries a
 * primary account number or a card field is refused before it is parsed further, stored or logged.
 */

import { passesLuhn } from "@settlekit/core";

/** A run of digits, maybe grouped by single spaces or dashes ("4242 4242 4242 4242"). */
const DIGIT_RUN = /\d(?:[ -]?\d)*/g;

/** A whole run of 13–19 digits that passes the Luhn check: what a PAN looks like. */
function isPanLike(run: string): boolean {
  const digits = run.replace(/[ -]/g, "");
  return digits.length >= 13 && digits.length <= 19 && passesLuhn(digits);
}

/** Field names that only card data has (compared without case, `_` or `-`). */
const CARD_FIELDS = new Set([
  "cardnumber",
  "pan",
  "primaryaccountnumber",
  "cvc",
  "cvc2",
  "cvv",
  "cvv2",
  "cid",
  "securitycode",
  "cardsecuritycode",
  "expmonth",
  "expyear",
  "expirymonth",
  "expiryyear",
  "expirationdate",
]);

export const looksLikePan = (text: string): boolean => (text.match(DIGIT_RUN) ?? []).some(isPanLike);

export const isCardField = (key: string): boolean => CARD_FIELDS.has(key.toLowerCase().replace(/[_-]/g, ""));

/** Replaces every PAN-like run with `[card]`, for anything that may be logged (URLs, messages). */
export function maskPans(text: string): string {
  return text.replace(DIGIT_RUN, (run) => (isPanLike(run) ? "[card]" : run));
}
