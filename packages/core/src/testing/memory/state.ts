import type { Dispute } from "../../domain/dispute.js";
import type { Payment } from "../../domain/payment.js";
import type { PaymentAttempt } from "../../domain/payment-attempt.js";
import type { PaymentOrder } from "../../domain/payment-order.js";
import type { Payout, PayoutLine, SellerPayoutAccount } from "../../domain/payout.js";
import type { ReconciliationItem, ReconciliationRun } from "../../domain/reconciliation.js";
import type { Refund } from "../../domain/refund.js";
import { ErrorCodes, SettlekitError } from "../../errors.js";
import type { Journal } from "../../ledger/types.js";
import type { DailyTaskRun } from "../../ports/daily-tasks.js";
import type { IdempotencyRecord } from "../../ports/idempotency.js";
import type { Job } from "../../ports/jobs.js";
import type { OutboxEvent } from "../../ports/outbox.js";
import type { StoredWebhookEvent } from "../../ports/payments.js";

/** A stored record plus what the table keeps beside it: its insertion sequence (ties, cursors). */
export interface Row<T> {
  readonly value: T;
  readonly seq: number;
}
export interface PaymentRow extends Row<Payment> {
  /** The sweeper's `deferCheck`: hidden from `listStale` until then; cleared by any update. */
  readonly checkAfter: Date | null;
}
export interface RefundRow extends Row<Refund> {
  /** The refund sweeper's `claimCheck`: hidden from `listStale` until then; kept by updates. */
  readonly checkAfter?: Date | null;
}
export interface AttemptRow extends Row<PaymentAttempt> {
  /** The refund sweeper's `claimCaptureRefundCheck`: hidden from its list until then; kept by updates. */
  readonly checkAfter?: Date | null;
}
export interface OrderRow extends Row<PaymentOrder> {
  /** Place in its payment's `insertMany` (unique per payment, as in SQL). */
  readonly position: number;
}
export interface OutboxRow extends Row<OutboxEvent> {
  readonly lockedBy: string | null;
  readonly lockedUntil: Date | null;
}
export interface BalanceRow {
  readonly account: string;
  readonly currency: string;
  readonly shard: number;
  readonly debits: bigint;
  readonly credits: bigint;
}

/**
 * Every table of the memory store. Maps are replaced, never mutated, once committed: a
 * transaction copies a map on its first write to it (copy-on-write) and the copies become the
 * committed state on commit, so a rolled-back transaction leaves nothing behind and a read-only
 * transaction keeps reading the consistent snapshot it started from. Rows are immutable too.
 */
export interface MemoryState {
  readonly payments: Map<string, PaymentRow>;
  readonly paymentOrders: Map<string, OrderRow>;
  /** Keyed by `paymentId␀attempt`. */
  readonly paymentAttempts: Map<string, AttemptRow>;
  readonly refunds: Map<string, RefundRow>;
  readonly disputes: Map<string, Row<Dispute>>;
  /** Keyed by `pspId␀eventId`. */
  readonly webhookEvents: Map<string, Row<StoredWebhookEvent>>;
  /** Keyed by reference (unique). */
  readonly journals: Map<string, Row<Journal>>;
  /** Keyed by `account␀currency␀shard`. */
  readonly balanceRows: Map<string, BalanceRow>;
  readonly outbox: Map<string, OutboxRow>;
  readonly jobs: Map<string, Row<Job>>;
  /** Keyed by `scope␀key`. */
  readonly idempotencyKeys: Map<string, Row<IdempotencyRecord>>;
  readonly payouts: Map<string, Row<Payout>>;
  /** Keyed by `payoutId␀journalReference`. */
  readonly payoutLines: Map<string, Row<PayoutLine>>;
  /** Keyed by `sellerId␀currency␀journalReference` (unique): the payout that pays the journal. */
  readonly paidJournals: Map<string, Row<string>>;
  /** Keyed by seller id. */
  readonly sellerPayoutAccounts: Map<string, Row<SellerPayoutAccount>>;
  /** Keyed by `task␀key␀day`. */
  readonly dailyTaskRuns: Map<string, Row<DailyTaskRun>>;
  readonly reconciliationRuns: Map<string, Row<ReconciliationRun>>;
  /** Keyed by `runId␀seq`. */
  readonly reconciliationItems: Map<string, Row<ReconciliationItem>>;
  /** Keyed by `runId␀key`: what a run has claimed (its value is the run id). */
  readonly reconciliationKeys: Map<string, Row<string>>;
}

export type TableName = keyof MemoryState;

export const emptyState = (): MemoryState => ({
  payments: new Map(),
  paymentOrders: new Map(),
  paymentAttempts: new Map(),
  refunds: new Map(),
  disputes: new Map(),
  webhookEvents: new Map(),
  journals: new Map(),
  balanceRows: new Map(),
  outbox: new Map(),
  jobs: new Map(),
  idempotencyKeys: new Map(),
  payouts: new Map(),
  payoutLines: new Map(),
  paidJournals: new Map(),
  sellerPayoutAccounts: new Map(),
  dailyTaskRuns: new Map(),
  reconciliationRuns: new Map(),
  reconciliationItems: new Map(),
  reconciliationKeys: new Map(),
});

/** A composite key (NUL cannot occur in ids, references or account addresses). */
export const key = (...parts: readonly (string | number)[]): string => parts.join("\u0000");

/** A deep copy: what goes in and what comes out, so no caller shares an object with the store. */
export const clone = <T>(value: T): T => structuredClone(value);

/** A JSON column: what a database would give back (and a bigint in it fails as it would there). */
export const json = <T>(value: T): T => (value === undefined ? value : JSON.parse(JSON.stringify(value)));

/** A constraint the database would enforce (unique index, foreign key, primary key). */
export function violation(constraint: string, message: string): SettlekitError {
  return new SettlekitError(ErrorCodes.STORE_ERROR, `memory store: ${message} (${constraint}).`, {
    details: { constraint },
  });
}

/**
 * One transaction's view of the state: reads see its own writes, then the snapshot it started
 * from. Every repository call goes through `read`/`write`, which refuse once the transaction ended
 * (a `StoreTx` kept past its callback) and, for `write`, in a read-only transaction.
 */
export class Working {
  private readonly copies: { -readonly [K in TableName]?: MemoryState[K] } = {};
  private open = true;

  constructor(
    private readonly base: MemoryState,
    private readonly writable: boolean,
  ) {}

  read<K extends TableName>(name: K): MemoryState[K] {
    this.assertOpen();
    return (this.copies[name] ?? this.base[name]) as MemoryState[K];
  }

  write<K extends TableName>(name: K): MemoryState[K] {
    this.assertOpen();
    if (!this.writable) {
      throw new SettlekitError(
        ErrorCodes.STORE_ERROR,
        `memory store: a read-only transaction tried to write (${name}).`,
        { details: { table: name } },
      );
    }
    let copy = this.copies[name];
    if (!copy) {
      copy = new Map(this.base[name] as Map<string, unknown>) as MemoryState[K];
      this.copies[name] = copy;
    }
    return copy as MemoryState[K];
  }

  /** The state with this transaction's writes; ends the transaction. */
  commit(): MemoryState {
    this.open = false;
    return { ...this.base, ...this.copies };
  }

  /** Drops this transaction's writes. */
  close(): void {
    this.open = false;
  }

  private assertOpen(): void {
    if (!this.open) {
      throw new SettlekitError(
        ErrorCodes.STORE_ERROR,
        "memory store: this transaction already ended; use the StoreTx only inside its callback.",
      );
    }
  }
}

/** Store-wide counters; like database sequences they are never rolled back. */
export interface Sequences {
  next(): number;
}

/** `a` before `b`: Dates and numbers ascending, strings by code unit (SQLite's BINARY collation). */
export function compare(a: Date | number | string, b: Date | number | string): number {
  const x = a instanceof Date ? a.getTime() : a;
  const y = b instanceof Date ? b.getTime() : b;
  return x < y ? -1 : x > y ? 1 : 0;
}
