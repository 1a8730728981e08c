/**
 * Reconciliation: what the PSP's settlement file, the ledger and the bank statement say, matched
 * record by record, each record and each ledger item given one class.
 */

/** Every class a reconciliation item can have (usable as a zod enum). */
export const RECONCILIATION_CLASSES = [
  "matched",
  "pending",
  "missing_in_ledger",
  "missing_at_psp",
  "missing_at_bank",
  "amount_mismatch",
  "currency_mismatch",
  "fee_mismatch",
  "status_mismatch",
  "duplicate",
  "invalid_row",
] as const;

/**
 * - `matched` — the PSP's record and the ledger agree (amount, currency, fee, status).
 * - `pending` — a timing difference still inside the settlement lag (the webhook or the PSP's
 *   file has not caught up yet); it becomes a discrepancy once the lag has passed.
 * - `missing_in_ledger` — the PSP moved money the ledger does not know of (or not as captured).
 * - `missing_at_psp` — a ledger journal of the period (payment captured, refund, payout paid) the
 *   PSP's records do not contain. (A bank line no PSP payout explains is not reported: a bank
 *   statement holds other money too.)
 * - `missing_at_bank` — a PSP payout to the platform's bank with no bank-statement line.
 * - `amount_mismatch`, `currency_mismatch` — both sides know it, with another amount or currency
 *   (on the `payout_sum` leg: a bank payout that is not the sum of what it settled; on the
 *   `psp_bank` leg: the bank received another amount, e.g. a short payout).
 * - `fee_mismatch` — the PSP's fee is not what its fee schedule says, or `amount − fee ≠ net`.
 * - `status_mismatch` — the PSP says charged (or refunded, or paid) and settlekit says it did not
 *   happen (a failed, canceled, expired or refunded payment; a failed refund or payout).
 * - `duplicate` — a second record with the same record id, or for the same ledger item.
 * - `invalid_row` — a line of the file that cannot be read (bad amount, unknown currency, missing
 *   reference, wrong column count), with its line number; the rest of the file still reconciles.
 */
export type ReconciliationClass = (typeof RECONCILIATION_CLASSES)[number];

/** Every class but `matched` and `pending` is a discrepancy. */
export const isDiscrepancy = (c: ReconciliationClass): boolean => c !== "matched" && c !== "pending";

/**
 * Which comparison an item belongs to: the PSP's record against the ledger, a bank payout against
 * the records it settled, or a bank payout against the bank statement.
 */
export type ReconciliationLeg = "psp_ledger" | "payout_sum" | "psp_bank";

/** Where a run's settlement records came from. */
export type ReconciliationSourceKind = "psp" | "sandbox_csv" | "stripe_itemized_csv" | "mapped_csv";

/** `running` while records stream in; `completed`; `superseded` by a later run of a corrected source. */
export type ReconciliationRunStatus = "running" | "completed" | "superseded";

/**
 * A run that is a discrepancy by itself: it read an empty source while the ledger has journals
 * for the period, or it matched nothing on a non-empty one. Never "OK".
 */
export type ReconciliationAnomaly = "empty_source" | "nothing_matched";

/** How many items of one class and currency a run has, and their PSP-side (or ledger) amounts. */
export interface ReconciliationTotal {
  readonly class: ReconciliationClass;
  /** ISO 4217 code; `""` for items with no readable currency (an invalid row). */
  readonly currency: string;
  readonly count: number;
  /** Σ of the items' amounts (minor units, signed as the records are). */
  readonly amount: bigint;
}

/** One reconciliation of one PSP's settlement for one period. */
export interface ReconciliationRun {
  readonly id: string;
  readonly pspId: string;
  /** The settlement period `[periodFrom, periodTo)`. */
  readonly periodFrom: Date;
  readonly periodTo: Date;
  readonly source: ReconciliationSourceKind;
  /**
   * SHA-256 (hex) of the source: the file's bytes, or the PSP's records in a canonical form, with
   * the bank statement's bytes when one was given. Same checksum for the same PSP and period =
   * the same run. Unset while `running`.
   */
  readonly sourceChecksum?: string | undefined;
  readonly status: ReconciliationRunStatus;
  /** The run this one replaced (same PSP and period, another source). */
  readonly supersedes?: string | undefined;
  /** The run that replaced this one. */
  readonly supersededBy?: string | undefined;
  /** Settlement records read (invalid rows included). */
  readonly recordCount: number;
  /** Bank statement lines read. */
  readonly bankLineCount: number;
  /** Items whose class is a discrepancy, plus 1 for an anomaly. */
  readonly discrepancyCount: number;
  readonly anomaly?: ReconciliationAnomaly | undefined;
  /** Per class and currency, ordered by class then currency. */
  readonly totals: readonly ReconciliationTotal[];
  readonly version: number;
  readonly createdAt: Date;
  readonly completedAt?: Date | undefined;
}

/** Who resolved a discrepancy and why; with `journalReference` when a correcting journal was posted. */
export interface ReconciliationResolution {
  readonly resolvedBy: string;
  readonly note: string;
  readonly journalReference?: string | undefined;
  readonly resolvedAt: Date;
}

/** One record, ledger item or bank line of a run, with its class. */
export interface ReconciliationItem {
  readonly runId: string;
  /** Position in the run (1, 2, …): the item's id within it, and the paging cursor. */
  readonly seq: number;
  readonly class: ReconciliationClass;
  readonly leg: ReconciliationLeg;
  /** The file's line number (1 = header), for records read from a file and bank lines. */
  readonly line?: number | undefined;
  /** The PSP's record id (or the bank line's reference). */
  readonly recordId?: string | undefined;
  /** The record's type (`charge`, `refund`, `payout`, `bank_payout`…), `bank_line`, or the journal kind. */
  readonly recordType?: string | undefined;
  /** The PSP reference it was matched by (payment, refund or payout reference). */
  readonly reference?: string | undefined;
  readonly currency?: string | undefined;
  /** What the PSP (or the bank) says, minor units, signed as the record. */
  readonly amount?: bigint | undefined;
  /** What settlekit expected, in `expectedCurrency` (default: `currency`). */
  readonly expectedAmount?: bigint | undefined;
  readonly expectedCurrency?: string | undefined;
  readonly fee?: bigint | undefined;
  readonly expectedFee?: bigint | undefined;
  readonly paymentId?: string | undefined;
  readonly refundId?: string | undefined;
  readonly payoutId?: string | undefined;
  readonly bankPayoutReference?: string | undefined;
  /** The ledger journal it was matched with (or the one missing at the PSP). */
  readonly journalReference?: string | undefined;
  /** The settlement journal reconciliation posted for it (matched records). */
  readonly bookingReference?: string | undefined;
  readonly occurredAt?: Date | undefined;
  /** Why it has its class, in plain words. */
  readonly message: string;
  readonly resolution?: ReconciliationResolution | undefined;
}
