import type { JsonValue } from "./json.js";

/** An internal event to publish, written in the same transaction as the state change it reports. */
export interface OutboxEventInput {
  /** Stable event type, e.g. `payment.created`, `payment.succeeded`. */
  readonly type: string;
  /** What the event is about, e.g. `payment`. */
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly payload: JsonValue;
}

export interface OutboxEvent extends OutboxEventInput {
  /** Event id; the publisher's message id, so brokers can dedupe redeliveries. */
  readonly id: string;
  readonly createdAt: Date;
  /** Failed publish attempts so far. */
  readonly attempts: number;
  /** When the event was published, or null. */
  readonly publishedAt: Date | null;
  /** Not before this instant may a relay claim the event (retry backoff). */
  readonly availableAt: Date;
  readonly lastError: string | null;
}

/**
 * The transactional outbox. Events are appended inside business transactions and relayed to
 * the `EventPublisher` by workers, at least once.
 */
export interface OutboxRepository {
  /** Appends events (ids already assigned) in the surrounding transaction. */
  append(events: readonly (OutboxEventInput & { readonly id: string })[], now: Date): Promise<void>;

  /**
   * Claims up to `limit` unpublished events whose `availableAt ≤ now` and that no live lease
   * holds, oldest first, leasing them to `workerId` until `leaseUntil` — by aggregate: an event is
   * claimed only together with every earlier unpublished event of its aggregate (same
   * `aggregateType` and `aggregateId`, appended before it). So an aggregate whose oldest
   * unpublished event is leased to another relay or backing off after a failed publish has none of
   * its later events claimed until that one is published or claimable again, and the claim skips
   * past it to other aggregates. One relay owns an aggregate's unpublished head at a time.
   *
   * Concurrency contract: concurrent claims return disjoint sets (Postgres:
   * `FOR UPDATE SKIP LOCKED`), and the aggregate rule holds between them too (a claim that skips
   * an earlier event another claim is taking leaves that aggregate's later events out); an event
   * whose lease expired (its relay crashed) is claimable again. Commit the claim before publishing.
   */
  claim(query: { workerId: string; limit: number; now: Date; leaseUntil: Date }): Promise<OutboxEvent[]>;

  /** Marks events published; only those still leased by `workerId` change. Returns how many did. */
  markPublished(query: { ids: readonly string[]; workerId: string; now: Date }): Promise<number>;

  /**
   * Gives events back after a failed publish: lease dropped, `attempts` + 1, `lastError` set,
   * claimable again from `availableAt`. Only events leased by `workerId` change.
   */
  release(query: {
    ids: readonly string[];
    workerId: string;
    availableAt: Date;
    error: string;
  }): Promise<number>;

  get(id: string): Promise<OutboxEvent | null>;

  /** Unpublished events, oldest first (for operators and tests). */
  listPending(query?: { limit?: number }): Promise<OutboxEvent[]>;

  /**
   * The events of one aggregate (a payment's timeline), published or not, in the order they
   * were appended; at most `limit` (default 100), starting after the event `afterId` when given.
   */
  listByAggregate(query: {
    aggregateType: string;
    aggregateId: string;
    limit?: number;
    afterId?: string;
  }): Promise<OutboxEvent[]>;
}
