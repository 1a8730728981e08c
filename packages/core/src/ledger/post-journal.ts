import { ErrorCodes, SettlekitError } from "../errors.js";
import type { Clock } from "../ports/clock.js";
import type { IdGenerator } from "../ports/ids.js";
import type { LedgerRepository } from "../ports/ledger.js";
import { systemClock } from "../runtime/clock.js";
import { uuidv7Ids } from "../runtime/ids.js";
import { canonicalPostings, sameJournalContent, validateJournal } from "./journal-rules.js";
import type { Journal, JournalInput } from "./types.js";

export interface PostJournalResult {
  readonly journal: Journal;
  /** False when a journal with the same reference and content already existed (nothing posted). */
  readonly created: boolean;
}

export interface LedgerDeps {
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
}

/**
 * Posts a journal exactly once per reference, through `target.ledger`: a `StoreTx` (the journal
 * commits with the rest of the transaction) or a `Store` (the journal is atomic on its own).
 *
 * - Invalid or unbalanced input throws before the store is touched.
 * - Same reference, same content (postings in any order): returns the stored journal with
 *   `created: false`; balances do not move.
 * - Same reference, different content: throws JOURNAL_EXISTS_WITH_DIFFERENT_CONTENT (the
 *   surrounding transaction should roll back).
 */
export async function postJournal(
  target: { readonly ledger: LedgerRepository },
  input: JournalInput,
  deps: LedgerDeps = {},
): Promise<PostJournalResult> {
  validateJournal(input);
  const journal: Journal = {
    id: (deps.ids ?? uuidv7Ids).newId(),
    reference: input.reference,
    kind: input.kind,
    postings: canonicalPostings(input.postings).map((p) => ({
      account: p.account,
      currency: p.currency,
      direction: p.direction,
      amount: p.amount,
    })),
    metadata: { ...(input.metadata ?? {}) },
    createdAt: (deps.clock ?? systemClock).now(),
  };
  const result = await target.ledger.insertJournal(journal);
  if (result.inserted) return { journal, created: true };
  if (!sameJournalContent(result.existing, input)) {
    throw new SettlekitError(
      ErrorCodes.JOURNAL_EXISTS_WITH_DIFFERENT_CONTENT,
      `A journal with reference "${input.reference}" exists with different content.`,
      { param: "reference", details: { reference: input.reference, existingJournalId: result.existing.id } },
    );
  }
  return { journal: result.existing, created: false };
}
