import type { Payment } from "../domain/payment.js";
import type { PaymentAttempt } from "../domain/payment-attempt.js";
import type { PaymentOrder } from "../domain/payment-order.js";
import type { PaymentOrderStatus } from "../domain/payment-order-status.js";
import type { PaymentStatus } from "../domain/payment-status.js";
import type { Refund } from "../domain/refund.js";
import type { JsonValue } from "./json.js";

/**
 * Payments (payment events). Updates are compare-and-set on `version`: `update(next)` writes
 * only if the stored version is `next.version − 1`, so two writers that read the same version
 * cannot both win.
 */
export interface PaymentRepository {
  insert(payment: Payment): Promise<void>;
  /** `forUpdate` locks the row until the transaction ends (Postgres; SQLite's write lock already does). */
  get(id: string, options?: { forUpdate?: boolean }): Promise<Payment | null>;
  /**
   * The payment a PSP reference belongs to: its current reference or that of any earlier attempt
   * (`forUpdate` as in `get`).
   */
  findByPspReference(
    pspId: string,
    pspReference: string,
    options?: { forUpdate?: boolean },
  ): Promise<Payment | null>;
  /** Compare-and-set on version; false when someone else changed it first. */
  update(next: Payment): Promise<boolean>;
  /**
   * Payments in one of `statuses` not changed since `updatedBefore` and not deferred past `now`
   * (see `deferCheck`), oldest first — what the pending sweeper polls.
   */
  listStale(query: {
    statuses: readonly PaymentStatus[];
    updatedBefore: Date;
    now: Date;
    limit: number;
  }): Promise<Payment[]>;
  /**
   * Keeps a payment out of `listStale` until `until` (the sweeper's backoff after a poll that
   * changed nothing). Not a change of the payment: no version bump; any `update` clears it.
   */
  deferCheck(id: string, until: Date): Promise<void>;
  /** Newest first, for operators and buyers' histories. */
  list(query: {
    buyerId?: string;
    status?: PaymentStatus;
    limit: number;
    beforeId?: string;
  }): Promise<Payment[]>;
}

/** Payment orders, one per seller of a payment. Same compare-and-set rule as payments. */
export interface PaymentOrderRepository {
  insertMany(orders: readonly PaymentOrder[]): Promise<void>;
  get(id: string, options?: { forUpdate?: boolean }): Promise<PaymentOrder | null>;
  /** The payment's orders in insertion order. */
  listByPayment(paymentId: string): Promise<PaymentOrder[]>;
  /**
   * A seller's orders, newest first (`created_at`, then id), optionally only some statuses;
   * `beforeId` continues after that order (keyset paging).
   */
  listBySeller(query: {
    sellerId: string;
    statuses?: readonly PaymentOrderStatus[];
    limit: number;
    beforeId?: string;
  }): Promise<PaymentOrder[]>;
  update(next: PaymentOrder): Promise<boolean>;
  /**
   * Fulfilled orders whose payout hold has ended and that are not released yet: `status`
   * `fulfilled`, `releasedAt` unset, `availableAt` ≤ `now`; oldest `availableAt` first, then id.
   * `startingAfter` continues after that (availableAt, id) (keyset paging), so a release pass can
   * step over orders it had to defer. Read without locks: the release locks each order.
   */
  listDueForRelease(query: {
    now: Date;
    limit: number;
    startingAfter?: { availableAt: Date; id: string };
  }): Promise<PaymentOrder[]>;
  /**
   * A seller's held orders: `status` `fulfilled`, `releasedAt` unset; soonest `availableAt` first
   * (orders still waiting for a date, `availableAt` unset, last), then id. At most `limit`.
   */
  listHeldBySeller(query: { sellerId: string; limit: number }): Promise<PaymentOrder[]>;
  /**
   * `update` of several orders at once (one round trip where the store can): true when every one
   * was at `version - 1` and is now updated. False means at least one was not — others may have
   * been written: the caller fails its transaction, which undoes them.
   */
  updateMany(next: readonly PaymentOrder[]): Promise<boolean>;
}

/** `processed` had its effect; `pending` waits for a retry (e.g. its payment was not known yet). */
export type WebhookEventStatus = "processed" | "pending";

export interface StoredWebhookEvent {
  readonly pspId: string;
  readonly eventId: string;
  /** The normalised event (bigints as decimal strings). */
  readonly payload: JsonValue;
  readonly status: WebhookEventStatus;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly receivedAt: Date;
  readonly processedAt: Date | null;
}

/**
 * Received webhook events, for dedupe: `insert` is the first write of a webhook's transaction,
 * and a duplicate delivery finds its event id already there.
 */
export interface WebhookEventRepository {
  /** Inserts unless `(pspId, eventId)` exists; exactly one of N concurrent inserts returns true. */
  insert(event: StoredWebhookEvent): Promise<boolean>;
  get(pspId: string, eventId: string): Promise<StoredWebhookEvent | null>;
  /** Records the outcome of (another) processing attempt. */
  update(query: {
    pspId: string;
    eventId: string;
    status: WebhookEventStatus;
    now: Date;
    error?: string | null;
  }): Promise<boolean>;
  /** Events still `pending`, oldest first. */
  listPending(query: { limit: number }): Promise<StoredWebhookEvent[]>;
}

/** Refunds. Same compare-and-set rule as payments. */
export interface RefundRepository {
  insert(refund: Refund): Promise<void>;
  get(id: string): Promise<Refund | null>;
  listByPayment(paymentId: string): Promise<Refund[]>;
  /** The (first) refund with this PSP refund reference. */
  findByPspReference(pspRefundReference: string): Promise<Refund | null>;
  /**
   * Every refund with this PSP refund reference, oldest first (`createdAt`, then id): one for a
   * refund settlekit made; one per payment order for an external refund (made at the PSP, spread
   * over the payment's orders). Unknown reference: `[]`. At most one row per payment order has a
   * given reference (a second insert for the same order and reference fails).
   */
  listByPspReference(pspRefundReference: string): Promise<Refund[]>;
  /** Compare-and-set on version. Leaves the refund's next check (`claimCheck`) as it was. */
  update(next: Refund): Promise<boolean>;
  /**
   * `pending` refunds (settlekit's and external ones) not changed since `updatedBefore` whose next
   * check is due at `now` (none claimed, or claimed until at most `now`; see `claimCheck`),
   * oldest change first (`updatedAt`, then id), at most `limit` — what the refund sweeper polls.
   */
  listStale(query: { updatedBefore: Date; now: Date; limit: number }): Promise<Refund[]>;
  /**
   * Claims the next check of refund `id` until `until` (the sweeper's lease on the poll and its
   * backoff after it): true when the refund is `pending` and its check was due at `now` (never
   * claimed, or claimed until at most `now`), and it is now claimed until `until`; false
   * otherwise. Of concurrent claims of the same due refund exactly one caller wins. Not a change
   * of the refund: no version bump.
   */
  claimCheck(query: { id: string; now: Date; until: Date }): Promise<boolean>;
}

/**
 * Every PSP attempt of every payment (see {@link PaymentAttempt}). `(pspId, pspReference)` is
 * unique; `(paymentId, attempt)` is the key. Same compare-and-set rule as payments.
 */
export interface PaymentAttemptRepository {
  insert(attempt: PaymentAttempt): Promise<void>;
  get(paymentId: string, attempt: number): Promise<PaymentAttempt | null>;
  findByPspReference(pspId: string, pspReference: string): Promise<PaymentAttempt | null>;
  /** The attempt whose automatic capture refund has this PSP refund id. */
  findByCaptureRefundReference(pspId: string, refundReference: string): Promise<PaymentAttempt | null>;
  /** Oldest attempt first. */
  listByPayment(paymentId: string): Promise<PaymentAttempt[]>;
  /** Compare-and-set on version. Leaves the attempt's next capture refund check as it was. */
  update(next: PaymentAttempt): Promise<boolean>;
  /**
   * Attempts whose automatic capture refund is `pending` (`captureRefundStatus`), not changed
   * since `updatedBefore`, whose next check is due at `now` (none claimed, or claimed until at
   * most `now`; see `claimCaptureRefundCheck`), oldest change first (`updatedAt`, then
   * `paymentId`, then `attempt`), at most `limit` — what the refund sweeper polls beside refunds.
   */
  listStaleCaptureRefunds(query: {
    updatedBefore: Date;
    now: Date;
    limit: number;
  }): Promise<PaymentAttempt[]>;
  /**
   * Claims the next check of the automatic capture refund of attempt (`paymentId`, `attempt`)
   * until `until` (the sweeper's lease on the poll and its backoff after it): true when that
   * refund is `pending` and its check was due at `now` (never claimed, or claimed until at most
   * `now`), and it is now claimed until `until`; false otherwise. Of concurrent claims of the same
   * due check exactly one caller wins. Not a change of the attempt: no version bump.
   */
  claimCaptureRefundCheck(query: {
    paymentId: string;
    attempt: number;
    now: Date;
    until: Date;
  }): Promise<boolean>;
}
