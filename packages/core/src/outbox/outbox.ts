import type { BackoffPolicy } from "../jobs/backoff.js";
import { backoffDelay } from "../jobs/backoff.js";
import type { Clock } from "../ports/clock.js";
import type { EventPublisher } from "../ports/events.js";
import type { IdGenerator } from "../ports/ids.js";
import type { OutboxEvent, OutboxEventInput } from "../ports/outbox.js";
import type { Store, StoreTx } from "../ports/store.js";
import { systemClock } from "../runtime/clock.js";
import { uuidv7Ids } from "../runtime/ids.js";

/** Appends events to the outbox inside `tx`; returns their ids (the publisher's message ids). */
export async function appendOutboxEvents(
  tx: StoreTx,
  events: readonly OutboxEventInput[],
  deps: { clock?: Clock; ids?: IdGenerator } = {},
): Promise<string[]> {
  const ids = deps.ids ?? uuidv7Ids;
  const withIds = events.map((event) => ({ ...event, id: ids.newId() }));
  await tx.outbox.append(withIds, (deps.clock ?? systemClock).now());
  return withIds.map((event) => event.id);
}

export interface RelayOptions {
  readonly workerId: string;
  readonly limit?: number;
  readonly leaseMs?: number;
  readonly backoff?: BackoffPolicy;
  readonly clock?: Clock;
}

/**
 * One relay pass: claim a batch (committed), publish it outside any transaction, then mark it
 * published — or release it for a retry with backoff. A crash between publish and mark means
 * the batch is published again after the lease: at least once, deduped downstream by event id.
 */
export async function relayOutboxOnce(
  store: Store,
  publisher: EventPublisher,
  options: RelayOptions,
): Promise<{ published: number; failed: number }> {
  const clock = options.clock ?? systemClock;
  const now = clock.now();
  const events = await store.transaction(async (tx) => {
    const claimed = await tx.outbox.claim({
      workerId: options.workerId,
      limit: options.limit ?? 100,
      now,
      leaseUntil: new Date(now.getTime() + (options.leaseMs ?? 60_000)),
    });
    return inAggregateOrder(tx, claimed, options.workerId, now);
  });
  if (events.length === 0) return { published: 0, failed: 0 };
  const ids = events.map((event) => event.id);
  try {
    await publisher.publish(events);
  } catch (error) {
    const attempt = Math.max(...events.map((event) => event.attempts)) + 1;
    const at = clock.now();
    await store.transaction((tx) =>
      tx.outbox.release({
        ids,
        workerId: options.workerId,
        availableAt: new Date(at.getTime() + backoffDelay(attempt, options.backoff)),
        error: error instanceof Error ? error.message.slice(0, 2000) : String(error),
      }),
    );
    return { published: 0, failed: events.length };
  }
  const published = await store.transaction((tx) =>
    tx.outbox.markPublished({ ids, workerId: options.workerId, now: clock.now() }),
  );
  return { published, failed: 0 };
}

/**
 * The claimed events that may go out now without overtaking an earlier event of their aggregate:
 * an event waits while an earlier one of the same aggregate is unpublished and not in this batch
 * (its publish failed and is backing off, or another relay holds it). The ones that wait are given
 * back at once, claimable again when the event they wait for is: events of one aggregate are
 * published in the order they were appended, whatever fails or runs concurrently.
 */
async function inAggregateOrder(
  tx: StoreTx,
  claimed: OutboxEvent[],
  workerId: string,
  now: Date,
): Promise<OutboxEvent[]> {
  const inBatch = new Set(claimed.map((event) => event.id));
  const waiting = new Map<string, { ids: string[]; until: Date; blocker: string }>();
  const aggregates = new Map<string, OutboxEvent>();
  for (const event of claimed) {
    const key = `${event.aggregateType}\u0000${event.aggregateId}`;
    if (!aggregates.has(key)) aggregates.set(key, event);
  }
  for (const first of aggregates.values()) {
    let blocker: OutboxEvent | undefined;
    let afterId: string | undefined;
    for (;;) {
      const page = await tx.outbox.listByAggregate({
        aggregateType: first.aggregateType,
        aggregateId: first.aggregateId,
        limit: 100,
        ...(afterId ? { afterId } : {}),
      });
      for (const event of page) {
        if (!blocker && event.publishedAt === null && !inBatch.has(event.id)) blocker = event;
        else if (blocker && inBatch.has(event.id)) {
          const until = blocker.availableAt > now ? blocker.availableAt : now;
          const entry = waiting.get(blocker.id) ?? { ids: [], until, blocker: blocker.id };
          entry.ids.push(event.id);
          waiting.set(blocker.id, entry);
        }
      }
      if (page.length < 100) break;
      afterId = page.at(-1)!.id;
    }
  }
  if (waiting.size === 0) return claimed;
  const held = new Set<string>();
  for (const { ids, until, blocker } of waiting.values()) {
    for (const id of ids) held.add(id);
    await tx.outbox.release({
      ids,
      workerId,
      availableAt: until,
      error: `waits for the earlier event ${blocker} of its aggregate`,
    });
  }
  return claimed.filter((event) => !held.has(event.id));
}
