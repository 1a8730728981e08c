/**
 * Card data must never reach settlekit (the PSP's hosted page collects it): a body that carries a
 * primary account number or a card field is refused before it is parsed further, stored or logged.
 */

import { passesLuhn } from "@settlekit/core";

/** A run of digits, maybe grouped by single spaces or dashes ("4242 4242 4242 4242"). */
const DIGIT_RUN = /\d(?:[ -]?\d)*/g;

/**
 * How card numbers are written in groups: fours with a shorter last group (Visa, Mastercard,
 * Discover, 19-digit cards), 4-6-5 (Amex) and 4-6-4 (Diners).
 */
const PAN_GROUPING = /^(?:4(?:-4)+(?:-[1-4])?|4-6-[45])$/;
const ALNUM = /[A-Za-z0-9]/;

const isWholePan = (digits: string) => digits.length >= 13 && digits.length <= 19 && passesLuhn(digits);

/**
 * Whether the run found at `at` in `text` is what a PAN looks like: 13–19 digits passing the
 * Luhn check, as a token of its own, written either without separators or in a card's grouping.
 * A run glued to letters or digits is part of something else — the digits of an id such as
 * `pay_01a2…` (hex) or `po_01a23456-7890-7123-8456-…` (a UUID) can pass Luhn, and are not card
 * data.
 */
function isPanLike(run: string, at: number, text: string): boolean {
  const end = at + run.length;
  const groups = run.split(/[ -]/);
  if (groups.length === 1) {
    // Digits inside a word are part of it: the hex of an id like `pay_01a2…` can hold a run
    // that passes Luhn.
    return isWholePan(run) && !ALNUM.test(text.charAt(at - 1)) && !ALNUM.test(text.charAt(end));
  }
  if (groups.some(isWholePan)) return true;
  const digits = groups.join("");
  if (!isWholePan(digits)) return false;
  if (!PAN_GROUPING.test(groups.map((group) => group.length).join("-"))) return false;
  // Glued: a letter or digit right beside it, or a dash joining it to one ("…ab-4242-…").
  const glued = (near: string, beyond: string) => ALNUM.test(near) || (near === "-" && ALNUM.test(beyond));
  return !glued(text.charAt(at - 1), text.charAt(at - 2)) && !glued(text.charAt(end), text.charAt(end + 1));
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

export const looksLikePan = (text: string): boolean =>
  Array.from(text.matchAll(DIGIT_RUN)).some((m) => isPanLike(m[0], m.index, text));

export const isCardField = (key: string): boolean => CARD_FIELDS.has(key.toLowerCase().replace(/[_-]/g, ""));

/** Replaces every PAN-like run with `[card]`, for anything that may be logged (URLs, messages). */
export function maskPans(text: string): string {
  return text.replace(DIGIT_RUN, (run, at: number) => (isPanLike(run, at, text) ? "[card]" : run));
}
