import type { Payout } from "../../domain/payout.js";
import { accounts } from "../../ledger/accounts.js";
import type { JournalInput, Posting } from "../../ledger/types.js";

/** The journal kinds of a payout's life; `payout_reserved` is never a line of a payout. */
export const PAYOUT_JOURNAL_KINDS = {
  reserved: "payout_reserved",
  paid: "payout_paid",
  released: "payout_released",
  reversed: "payout_reversed",
} as const;

const posting = (
  account: string,
  currency: string,
  direction: Posting["direction"],
  amount: bigint,
): Posting[] => (amount > 0n ? [{ account, currency, direction, amount }] : []);

const metadata = (payout: Payout) => ({ payoutId: payout.id, sellerId: payout.sellerId });

/**
 * `available → reserved`: the seller's available money in the source currency leaves the wallet's
 * available balance. For an FX payout the conversion is booked here, at the locked rate: the
 * source amount goes to `platform:fx` in the source currency, and `platform:fx` in the payout
 * currency gives the converted amount — the seller's part to `reserved`, the spread to
 * `platform:fx_revenue`. Each currency balances on its own.
 */
export function reservationJournal(payout: Payout): JournalInput {
  const available = accounts.sellerAvailable(payout.sellerId);
  const reserved = accounts.sellerReserved(payout.sellerId);
  const postings: Posting[] = payout.fx
    ? [
        ...posting(available, payout.sourceCurrency, "debit", payout.sourceAmount),
        ...posting(accounts.platformFx, payout.sourceCurrency, "credit", payout.sourceAmount),
        ...posting(accounts.platformFx, payout.currency, "debit", payout.fx.convertedAmount),
        ...posting(reserved, payout.currency, "credit", payout.amount),
        ...posting(accounts.platformFxRevenue, payout.currency, "credit", payout.fx.spreadAmount),
      ]
    : [
        ...posting(available, payout.sourceCurrency, "debit", payout.sourceAmount),
        ...posting(reserved, payout.currency, "credit", payout.amount),
      ];
  return {
    reference: `payout:${payout.id}:reserved`,
    kind: PAYOUT_JOURNAL_KINDS.reserved,
    metadata: metadata(payout),
    postings,
  };
}

/** `reserved → psp:X:payouts`: the PSP paid the seller. */
export function paidJournal(payout: Payout): JournalInput {
  return {
    reference: `payout:${payout.id}:paid`,
    kind: PAYOUT_JOURNAL_KINDS.paid,
    metadata: {
      ...metadata(payout),
      ...(payout.pspPayoutReference ? { pspPayoutReference: payout.pspPayoutReference } : {}),
    },
    postings: [
      ...posting(accounts.sellerReserved(payout.sellerId), payout.currency, "debit", payout.amount),
      ...posting(accounts.pspPayouts(payout.pspId), payout.currency, "credit", payout.amount),
    ],
  };
}

/**
 * A payout that failed before it was paid: the reservation, reversed posting by posting — the
 * seller gets back exactly the source amount (an FX payout at its locked rate, spread included).
 */
export function releaseJournal(payout: Payout): JournalInput {
  const reservation = reservationJournal(payout);
  return {
    reference: `payout:${payout.id}:released`,
    kind: PAYOUT_JOURNAL_KINDS.released,
    metadata: metadata(payout),
    postings: reservation.postings.map((p) => ({
      ...p,
      direction: p.direction === "debit" ? "credit" : "debit",
    })),
  };
}

/** `floor(total × part / whole)`, for cumulative shares that reach `total` exactly at `part = whole`. */
const share = (total: bigint, part: bigint, whole: bigint) => (total * part) / whole;

/**
 * The PSP took back a paid payout's money, `reversedBefore → reversedNow` of `amount` (running
 * totals, payout currency). The seller's available balance gets back the matching part of the
 * source amount; an FX payout also gives back the matching part of the spread, so a full reversal
 * undoes the reservation and the payment exactly (no phantom balance from a round trip). Parts are
 * cumulative floors: reversals in several steps sum to exactly what one full reversal gives.
 */
export function reversalJournal(
  payout: Payout,
  reversedBefore: bigint,
  reversedNow: bigint,
  extra: Readonly<Record<string, string>> = {},
): JournalInput {
  const available = accounts.sellerAvailable(payout.sellerId);
  const back = reversedNow - reversedBefore;
  const source =
    share(payout.sourceAmount, reversedNow, payout.amount) -
    share(payout.sourceAmount, reversedBefore, payout.amount);
  const postings: Posting[] = [...posting(accounts.pspPayouts(payout.pspId), payout.currency, "debit", back)];
  if (payout.fx) {
    const spread =
      share(payout.fx.spreadAmount, reversedNow, payout.amount) -
      share(payout.fx.spreadAmount, reversedBefore, payout.amount);
    postings.push(
      ...posting(accounts.platformFxRevenue, payout.currency, "debit", spread),
      ...posting(accounts.platformFx, payout.currency, "credit", back + spread),
      ...posting(accounts.platformFx, payout.sourceCurrency, "debit", source),
      ...posting(available, payout.sourceCurrency, "credit", source),
    );
  } else {
    postings.push(...posting(available, payout.sourceCurrency, "credit", back));
  }
  return {
    reference: `payout:${payout.id}:reversed:${reversedNow}`,
    kind: PAYOUT_JOURNAL_KINDS.reversed,
    metadata: { ...extra, ...metadata(payout) },
    postings,
  };
}
