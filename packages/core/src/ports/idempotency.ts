import type { JsonValue } from "./json.js";

/** Recovery point a finished request ends at. */
export const FINISHED = "finished";
/** The recovery point of a record no step of its flow has passed yet (nothing to recover). */
export const STARTED = "started";

export interface StoredResponse {
  readonly status: number;
  readonly body: JsonValue;
}

/**
 * One idempotency key (Stripe/IETF semantics), scoped per client so two buyers' keys never
 * collide. `recoveryPoint` records how far a multi-phase request got, so a crashed request can
 * be resumed (recovery worker) instead of repeated.
 */
export interface IdempotencyRecord {
  readonly scope: string;
  readonly key: string;
  /** Fingerprint of the request (method, path, canonical body). */
  readonly requestHash: string;
  /** `started`, flow-specific points, then {@link FINISHED}. */
  readonly recoveryPoint: string;
  /** Who is executing the request now, if anyone. */
  readonly lockedBy: string | null;
  readonly lockedUntil: Date | null;
  /** Set once the request finished. */
  readonly response: StoredResponse | null;
  /** Flow data kept between phases (e.g. the payment id). */
  readonly state: JsonValue;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly expiresAt: Date;
}

/** Idempotency keys. Core (`beginIdempotentRequest`) decides replay / reuse / in-use. */
export interface IdempotencyKeyRepository {
  /**
   * Inserts the record (locked by `record.lockedBy`) unless `(scope, key)` exists; returns the
   * stored record either way. Exactly one of N concurrent inserts reports `created: true`.
   */
  insertOrGet(record: IdempotencyRecord): Promise<{ record: IdempotencyRecord; created: boolean }>;

  /**
   * Takes the lock if the request is not finished and no live lease holds it (`lockedUntil`
   * null or ≤ now), making `owner` the one token that can `update` the key. Compare-and-set:
   * exactly one concurrent caller wins, also against a concurrent renewal by the old holder.
   */
  lock(query: { scope: string; key: string; owner: string; now: Date; lockedUntil: Date }): Promise<boolean>;

  /**
   * Updates a record whose lock `owner` holds (false otherwise): a new recovery point, state,
   * the final response, and/or the lock (`lockedUntil: null` releases it).
   *
   * `owner` is the lock token: a compare-and-set on `lockedBy`, so at any time exactly one
   * execution can write a key. This is also how a holder renews its lease (heartbeat): an update
   * with only a later `lockedUntil` extends it while `owner` still holds the key, and returns
   * false once another execution took the key over (`lock` after the lease expired), or it was
   * released — a stale token never writes. A holder whose lease ran out but that nobody took
   * over still holds the key (its token is still `lockedBy`).
   */
  update(query: {
    scope: string;
    key: string;
    owner: string;
    now: Date;
    recoveryPoint?: string;
    state?: JsonValue;
    response?: StoredResponse;
    lockedUntil?: Date | null;
  }): Promise<boolean>;

  get(scope: string, key: string): Promise<IdempotencyRecord | null>;

  /** Unfinished records whose lock expired or was released: work a recovery worker must re-drive. */
  listStalled(query: { now: Date; limit: number }): Promise<IdempotencyRecord[]>;

  /**
   * Deletes records with `expiresAt ≤ now` that carry no work (at most `limit`): finished, or still
   * at {@link STARTED}. A record at a flow's recovery point (`payment_created`, `refund_created`,
   * …) is kept past its expiry until recovery drives it to {@link FINISHED}: deleting it would leave
   * its payment or refund half-done for good. Returns how many were deleted.
   */
  deleteExpired(query: { now: Date; limit: number }): Promise<number>;
}
