import type { Dispute } from "../domain/dispute.js";
import type { DisputeStatus } from "../domain/dispute-status.js";

/**
 * Disputes (chargebacks). Same compare-and-set rule as payments: `update(next)` writes only if
 * the stored version is `next.version − 1`.
 */
export interface DisputeRepository {
  /**
   * Stores a new dispute. `(pspId, pspDisputeReference)` is unique: a second insert of the same
   * PSP dispute throws (callers lock the disputed payment first, so two events of one new dispute
   * never race to insert it).
   */
  insert(dispute: Dispute): Promise<void>;
  get(id: string): Promise<Dispute | null>;
  /** The dispute a PSP knows by `pspDisputeReference` (`forUpdate` locks it until the transaction ends). */
  findByPspReference(
    pspId: string,
    pspDisputeReference: string,
    options?: { forUpdate?: boolean },
  ): Promise<Dispute | null>;
  /** A payment's disputes, oldest first. */
  listByPayment(paymentId: string): Promise<Dispute[]>;
  /**
   * Newest first (`created_at`, then id), optionally of some statuses; `beforeId` continues after
   * that dispute (keyset paging) — the operator's list.
   */
  list(query: { statuses?: readonly DisputeStatus[]; limit: number; beforeId?: string }): Promise<Dispute[]>;
  /** Compare-and-set on version; false when someone else changed it first. */
  update(next: Dispute): Promise<boolean>;
}
