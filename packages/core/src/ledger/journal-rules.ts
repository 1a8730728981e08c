import { ErrorCodes, SettlekitError } from "../errors.js";
import { assertCurrency } from "../money/currency.js";
import { assertAccountAddress } from "./accounts.js";
import type { BalanceDelta, Journal, JournalInput, Posting } from "./types.js";
import { MAX_POSTING_AMOUNT } from "./types.js";

const MAX_POSTINGS = 1000;
const MAX_REFERENCE_LENGTH = 255;

function invalid(message: string, param: string): SettlekitError {
  return new SettlekitError(ErrorCodes.INVALID_JOURNAL, message, { param });
}

/**
 * Checks every ledger rule on a journal before anything is stored: a reference, ≥ 2 postings,
 * valid accounts and currencies, amounts in (0, MAX_POSTING_AMOUNT], and debits = credits in
 * every currency. Throws INVALID_JOURNAL / INVALID_ACCOUNT / UNKNOWN_CURRENCY / UNBALANCED_JOURNAL.
 */
export function validateJournal(input: JournalInput): void {
  if (typeof input.reference !== "string" || input.reference.length === 0) {
    throw invalid("A journal needs a non-empty reference.", "reference");
  }
  if (input.reference.length > MAX_REFERENCE_LENGTH) {
    throw invalid(`A journal reference is at most ${MAX_REFERENCE_LENGTH} characters.`, "reference");
  }
  if (typeof input.kind !== "string" || input.kind.length === 0 || input.kind.length > 64) {
    throw invalid("A journal needs a kind of 1 to 64 characters.", "kind");
  }
  if (!Array.isArray(input.postings) || input.postings.length < 2) {
    throw invalid("A journal needs at least two postings.", "postings");
  }
  if (input.postings.length > MAX_POSTINGS) {
    throw invalid(`A journal has at most ${MAX_POSTINGS} postings.`, "postings");
  }
  for (const [key, value] of Object.entries(input.metadata ?? {})) {
    if (typeof value !== "string")
      throw invalid(`Metadata value for "${key}" must be a string.`, `metadata.${key}`);
  }
  const net = new Map<string, bigint>();
  input.postings.forEach((posting, i) => {
    const param = `postings.${i}`;
    assertAccountAddress(posting.account, `${param}.account`);
    assertCurrency(posting.currency, `${param}.currency`);
    if (posting.direction !== "debit" && posting.direction !== "credit") {
      throw invalid('Posting direction must be "debit" or "credit".', `${param}.direction`);
    }
    if (typeof posting.amount !== "bigint" || posting.amount <= 0n || posting.amount > MAX_POSTING_AMOUNT) {
      throw new SettlekitError(
        ErrorCodes.INVALID_AMOUNT,
        `Posting amounts are bigint minor units in (0, ${MAX_POSTING_AMOUNT}].`,
        { param: `${param}.amount` },
      );
    }
    const signed = posting.direction === "debit" ? posting.amount : -posting.amount;
    net.set(posting.currency, (net.get(posting.currency) ?? 0n) + signed);
  });
  for (const [currency, difference] of net) {
    if (difference !== 0n) {
      throw new SettlekitError(
        ErrorCodes.UNBALANCED_JOURNAL,
        `Debits and credits differ by ${difference} minor units of ${currency}.`,
        { param: "postings", details: { currency, difference: difference.toString() } },
      );
    }
  }
}

const postingKey = (p: Posting): string =>
  `${p.account}\u0000${p.currency}\u0000${p.direction}\u0000${p.amount}`;

/** Postings in a canonical order (so equality ignores the order they were given in). */
export function canonicalPostings(postings: readonly Posting[]): Posting[] {
  return [...postings].sort((a, b) =>
    postingKey(a) < postingKey(b) ? -1 : postingKey(a) > postingKey(b) ? 1 : 0,
  );
}

/** Whether a stored journal has the same content (kind, postings as a multiset, metadata) as an input. */
export function sameJournalContent(stored: Journal, input: JournalInput): boolean {
  if (stored.kind !== input.kind || stored.postings.length !== input.postings.length) return false;
  const a = canonicalPostings(stored.postings).map(postingKey);
  const b = canonicalPostings(input.postings).map(postingKey);
  if (a.some((key, i) => key !== b[i])) return false;
  const ma = Object.entries(stored.metadata).sort(([x], [y]) => (x < y ? -1 : 1));
  const mb = Object.entries(input.metadata ?? {}).sort(([x], [y]) => (x < y ? -1 : 1));
  return JSON.stringify(ma) === JSON.stringify(mb);
}

/**
 * Net debits and credits per (account, currency) of a journal, sorted by account then currency.
 * Adapters update balance rows from these, in this order: every transaction locks rows in the
 * same global order, which is what keeps concurrent postings from deadlocking.
 */
export function journalBalanceDeltas(postings: readonly Posting[]): BalanceDelta[] {
  const byKey = new Map<string, { account: string; currency: string; debits: bigint; credits: bigint }>();
  for (const p of postings) {
    const key = `${p.account}\u0000${p.currency}`;
    const row = byKey.get(key) ?? { account: p.account, currency: p.currency, debits: 0n, credits: 0n };
    if (p.direction === "debit") row.debits += p.amount;
    else row.credits += p.amount;
    byKey.set(key, row);
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}
