import type { PaymentInstrument } from "@settlekit/core";
import { passesLuhn } from "@settlekit/core";
import { rejected } from "./errors.js";

/** What a test card does when charged. */
export type TestCardBehaviour =
  | { readonly outcome: "succeeded"; readonly instrument: PaymentInstrument }
  /** Accepted, then confirmed asynchronously after `bankTransferSettleMs` or on `settle()`. */
  | { readonly outcome: "processing"; readonly instrument: PaymentInstrument }
  | { readonly outcome: "declined"; readonly failureCode: string; readonly failureMessage: string };

/**
 * The sandbox's test cards (Stripe's numbers and meanings). Any other number that passes the
 * Luhn check is declined with `card_not_supported`, as real cards are in Stripe's test mode.
 */
export const TEST_CARDS: Readonly<Record<string, TestCardBehaviour>> = {
  "4242424242424242": { outcome: "succeeded", instrument: "credit_card" },
  "4000056655665556": { outcome: "succeeded", instrument: "debit_card" },
  "4000000000000002": {
    outcome: "declined",
    failureCode: "card_declined",
    failureMessage: "Your card was declined.",
  },
  "4000000000009995": {
    outcome: "declined",
    failureCode: "insufficient_funds",
    failureMessage: "Your card has insufficient funds.",
  },
  "4000000000003220": { outcome: "processing", instrument: "credit_card" },
};

/** Card fields as the buyer typed them on the hosted page. */
export interface CardInput {
  readonly number: string;
  /** `MM/YY` or `MM/YYYY`. */
  readonly expiry: string;
  readonly cvc: string;
}

/** The card's verdict plus what may be kept of it (the last four digits, nothing else). */
export type CardVerdict = TestCardBehaviour & { readonly last4: string };

const declined = (failureCode: string, failureMessage: string, last4: string): CardVerdict => ({
  outcome: "declined",
  failureCode,
  failureMessage,
  last4,
});

/**
 * Checks a card as the hosted page would. Malformed input (a number failing Luhn, an unreadable
 * expiry) is rejected before any charge, like a PSP's client-side validation: it throws a fatal
 * PspError (`incorrect_number`, `invalid_expiry`) and changes nothing. A well-formed card is
 * charged: an expiry month already over → `expired_card`, a CVC that is not 3–4 digits →
 * `incorrect_cvc`, then the test card's own behaviour.
 */
export function evaluateCard(card: CardInput, now: Date): CardVerdict {
  const digits = card.number.replace(/[\s-]/g, "");
  if (!/^\d{12,19}$/.test(digits) || !passesLuhn(digits)) {
    throw rejected("Your card number is incorrect.", "incorrect_number", "card_number");
  }
  const expiry = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(card.expiry);
  const month = Number(expiry?.[1]);
  if (!expiry || month < 1 || month > 12) {
    throw rejected("Your card's expiry date is invalid (MM/YY).", "invalid_expiry", "card_expiry");
  }
  const yearText = expiry[2]!;
  const year = yearText.length === 2 ? 2000 + Number(yearText) : Number(yearText);
  const last4 = digits.slice(-4);
  // A card is valid through the last day of its expiry month: compare with the next month's start.
  if (now.getTime() >= Date.UTC(year, month, 1)) {
    return declined("expired_card", "Your card has expired.", last4);
  }
  if (!/^\d{3,4}$/.test(card.cvc.trim())) {
    return declined("incorrect_cvc", "Your card's security code is incorrect.", last4);
  }
  const behaviour = TEST_CARDS[digits];
  if (!behaviour) {
    return declined("card_not_supported", "Only the sandbox's test cards can be used.", last4);
  }
  return { ...behaviour, last4 };
}
