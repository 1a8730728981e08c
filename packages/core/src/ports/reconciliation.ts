import type { Payment } from "../domain/payment.js";
import type { Payout } from "../domain/payout.js";
import type {
  ReconciliationClass,
  ReconciliationItem,
  ReconciliationResolution,
  ReconciliationRun,
} from "../domain/reconciliation.js";
import type { Refund } from "../domain/refund.js";

/**
 * The journal kinds a PSP's settlement must contain: captures, refunds (and the reversals of
 * those that bounced), payouts paid to sellers, captures no payment order owns with their
 * automatic refunds (and their bounces), and the money disputes withdrew and reinstated (money
 * the PSP moved too).
 */
export const SETTLED_JOURNAL_KINDS = [
  "payment_succeeded",
  "refund",
  "refund_reversal",
  "payout_paid",
  "unowned_capture",
  "unowned_capture_refund",
  "unowned_capture_refund_bounced",
  "dispute_funds_withdrawn",
  "dispute_funds_reinstated",
] as const;

/** A ledger journal of the period as reconciliation sees it: its net movement on the PSP's accounts. */
export interface SettledJournal {
  readonly journalReference: string;
  readonly kind: string;
  readonly createdAt: Date;
  readonly currency: string;
  /**
   * Σ debits − credits on `psp:X:receivable` and `psp:X:payouts`: a capture is positive, a refund
   * or a payout to a seller negative — signed as settlement records are.
   */
  readonly amount: bigint;
  readonly metadata: Readonly<Record<string, string>>;
  /** Opaque keyset cursor (the journal's posting order). */
  readonly cursor: string;
}

/**
 * A settlement charge staged for {@link ReconciliationRepository.matchExactCharges}: the fields of
 * a `charge` record that classification reads, and the `seq` its item gets when it matches.
 */
export interface StagedCharge {
  readonly seq: number;
  readonly line?: number | undefined;
  readonly recordId: string;
  readonly pspReference: string;
  readonly amount: bigint;
  readonly fee: bigint;
  readonly currency: string;
  readonly occurredAt: Date;
  readonly bankPayoutReference?: string | undefined;
}

/** What {@link ReconciliationRepository.matchExactCharges} wrote, and what it left to the caller. */
export interface ExactChargeMatch {
  /** Seqs of the staged charges that were not an exact match: nothing was written for them. */
  readonly notMatched: readonly number[];
  /** The exact matches per currency: how many, and the sum of their amounts. */
  readonly matched: readonly { readonly currency: string; readonly count: number; readonly amount: bigint }[];
}

/** A later claim of a key an earlier record of the run claimed (see `findRepeatedClaims`). */
export interface RepeatedClaim {
  readonly seq: number;
  /** `record:<id>` or a journal reference. */
  readonly key: string;
  /** The item stored under `seq`; null when none is. */
  readonly item: ReconciliationItem | null;
}

/**
 * Reconciliation runs, their items, and the keyed lookups matching needs. Matching streams a
 * settlement file of any size: it looks ledger items up in batches (`find*` take up to 1 000
 * references), writes items in batches, and claims what it has seen as keys of the run
 * (`claimKeys`) so duplicates and the ledger's unmatched journals (`listUnclaimedJournals`, an
 * anti-join) are found by the database, never by holding the file in memory.
 */
export interface ReconciliationRepository {
  /**
   * Stores a new run (status `running` or `completed`). A source (`pspId, periodFrom, periodTo,
   * sourceChecksum`) may have several runs — a re-run after pending items of the stored one came
   * due supersedes it — but a period has one `completed` run at a time (see `findCurrentRun`).
   */
  insertRun(run: ReconciliationRun): Promise<void>;
  /** `forUpdate` locks the row until the transaction ends. */
  getRun(id: string, options?: { forUpdate?: boolean }): Promise<ReconciliationRun | null>;
  /** Compare-and-set on version: writes only if the stored version is `next.version − 1`. */
  updateRun(next: ReconciliationRun): Promise<boolean>;
  /** Deletes a run with its items and keys (a draft that turned out to repeat an earlier run). */
  deleteRun(id: string): Promise<void>;
  /**
   * The newest `completed` or `superseded` run of this PSP and period with this source checksum
   * (`createdAt`, then id); null when none.
   */
  findRunBySource(query: {
    pspId: string;
    periodFrom: Date;
    periodTo: Date;
    sourceChecksum: string;
  }): Promise<ReconciliationRun | null>;
  /**
   * The `completed` (not superseded) run of this PSP and exactly this period; null when none. At
   * most one run of a PSP and period is `completed` (a second write making one fails, like the
   * source's unique index).
   *
   * `forUpdate` locks the PSP and period, whether or not it has a run yet, until the transaction
   * ends: of two transactions committing runs of one period, the second waits here and then sees
   * the first's run (so it supersedes it instead of leaving two current runs).
   */
  findCurrentRun(
    query: {
      pspId: string;
      periodFrom: Date;
      periodTo: Date;
    },
    options?: { forUpdate?: boolean },
  ): Promise<ReconciliationRun | null>;
  /** Runs newest first (`createdAt`, then id), `running` ones excluded; `beforeId` pages on. */
  listRuns(query: { limit: number; beforeId?: string; pspId?: string }): Promise<ReconciliationRun[]>;

  /** Appends items; `(runId, seq)` is unique (a repeated one throws `STORE_ERROR`/`STORE_CONFLICT`). */
  insertItems(items: readonly ReconciliationItem[]): Promise<void>;
  /** A run's items by `seq`, optionally one class; `afterSeq` continues after that item. */
  listItems(query: {
    runId: string;
    class?: ReconciliationClass;
    afterSeq?: number;
    limit: number;
  }): Promise<ReconciliationItem[]>;
  getItem(runId: string, seq: number): Promise<ReconciliationItem | null>;
  /** Records a resolution on an unresolved item; false when the item is missing or already resolved. */
  resolveItem(runId: string, seq: number, resolution: ReconciliationResolution): Promise<boolean>;

  /**
   * Claims `keys` (unique strings, e.g. `record:txn_1`, a journal reference) for the run and
   * returns those that were claimed before (by an earlier call for this run): how matching finds
   * duplicates without keeping the file's ids in memory. Callers pass each key once per call, and
   * may pass `seqs`, the seq of the item each key is claimed for (aligned with `keys`): a store
   * that keeps the set-based pass's claims apart (see {@link findRepeatedClaims}) keeps them with
   * the claim. Keys `matchExactCharges` claimed may not count here until the end of the run.
   */
  claimKeys(runId: string, keys: readonly string[], seqs?: readonly number[]): Promise<string[]>;
  /**
   * Which of `keys` (at most 1 000) any run of `runIds` (a run and its neighbours, a few) has
   * claimed, each once, any order: how a half of an out-and-back pair finds its other half in
   * another batch or a neighbouring period's run. Claims nothing.
   */
  findClaimedKeys(runIds: readonly string[], keys: readonly string[]): Promise<string[]>;
  /**
   * The end of a run's set-based pass. A store may keep the claims of `matchExactCharges` apart
   * while the run is read (Postgres: in the batch's row, not one key row each, and not looked up
   * by later batches) — then a later record that repeats one of their keys was settled as an
   * exact match, or classified, without knowing. This returns every such later claim, in seq
   * order: for each key claimed more than once in the run (by the set-based pass and
   * `claimKeys` calls given `seqs`), each claim after the first in seq order, with the key and
   * the item stored under that seq (null when none is: a half of a pair, whose item waits in
   * core). Those records are duplicates; the caller replaces their items
   * ({@link replaceItems}). A store that claims as it matches returns none.
   */
  findRepeatedClaims(runId: string): Promise<RepeatedClaim[]>;
  /** Replaces stored items (each by its run and seq, which must exist), e.g. with what a repeat makes them. */
  replaceItems(items: readonly ReconciliationItem[]): Promise<void>;
  /**
   * Journals of {@link SETTLED_JOURNAL_KINDS} created in `[from, to)` that touch the PSP's
   * receivable or payouts account and whose reference no `claimKeys` of the run — nor of a run
   * in `alsoClaimedBy` (the current runs of neighbouring periods) — claimed, in posting order, at
   * most `limit`; `after` continues after that cursor.
   */
  listUnclaimedJournals(query: {
    runId: string;
    pspId: string;
    from: Date;
    to: Date;
    alsoClaimedBy?: readonly string[];
    after?: string;
    limit: number;
  }): Promise<SettledJournal[]>;

  /**
   * Payments of `pspId` whose id is one of `ids` or whose current PSP reference is one of
   * `pspReferences` (any order, each payment once).
   */
  findPayments(
    pspId: string,
    query: { ids?: readonly string[]; pspReferences?: readonly string[] },
  ): Promise<Payment[]>;
  /**
   * The set-based pass of matching: joins a batch of staged charges against the ledger and
   * settles the exact matches in the store, without sending them back. A charge is an exact match
   * when exactly one payment of `pspId` has its `pspReference`, that payment is `succeeded`,
   * `partially_refunded` or `refunded`, its currency and amount are the charge's, and no
   * `claimKeys` of the run has claimed `record:<recordId>` or the payment's capture journal
   * `payment:<paymentId>:<pspReference>`. For each exact match it claims those two keys and writes
   * the item core's classifier gives that record (`exactChargeItem`: class `matched`, the payment,
   * its journal, `matches payment <id>`) under the staged `seq`; for the others it writes and
   * claims nothing and returns their seqs, for the classifier to decide. A store may keep those
   * items compactly (Postgres: one row per call); `listItems`, `getItem`, `resolveItem` and
   * `deleteRun` treat them as any other item.
   *
   * The caller stages only charges whose `amount − fee = net` and whose fee is the PSP's schedule,
   * with recordIds and pspReferences unique within the call, none staged by an earlier call of
   * the run and none whose keys a `claimKeys` of the run claimed (`record:<recordId>`, or the
   * capture journal of a payment with that reference: core keeps a filter of what the run has
   * seen, so a store need not look its claims up), in a run whose records carry no payment id (then a payment is found by its reference
   * alone, as classification finds it). A store may keep the exact matches' claims apart until
   * the end of the run ({@link findRepeatedClaims}): a later `claimKeys` of one of them then
   * reports it as not claimed before.
   */
  matchExactCharges(query: {
    runId: string;
    pspId: string;
    charges: readonly StagedCharge[];
  }): Promise<ExactChargeMatch>;
  /** Refunds whose PSP refund reference is one of `refundReferences` (any order). */
  findRefunds(refundReferences: readonly string[]): Promise<Refund[]>;
  /** Payouts of `pspId` whose PSP payout reference is one of `payoutReferences` (any order). */
  findPayouts(pspId: string, payoutReferences: readonly string[]): Promise<Payout[]>;
}
