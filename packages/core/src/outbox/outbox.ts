import type { BackoffPolicy } from "../jobs/backoff.js";
import { backoffDelay } from "../jobs/backoff.js";
import type { Clock } from "../ports/clock.js";
import type { EventPublisher } from "../ports/events.js";
import type { IdGenerator } from "../ports/ids.js";
import type { OutboxEventInput } from "../ports/outbox.js";
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
 *
 * Order: the claim is by aggregate (`OutboxRepository.claim`): a batch holds an event only with
 * every earlier unpublished event of its aggregate, in append order, so with any number of relays
 * an event is published only after the earlier events of its aggregate were acknowledged (marked
 * published) or in the same batch before it; the publisher keeps a batch's order per aggregate.
 */
export async function relayOutboxOnce(
  store: Store,
  publisher: EventPublisher,
  options: RelayOptions,
): Promise<{ published: number; failed: number }> {
  const clock = options.clock ?? systemClock;
  const now = clock.now();
  const events = await store.transaction((tx) =>
    tx.outbox.claim({
      workerId: options.workerId,
      limit: options.limit ?? 100,
      now,
      leaseUntil: new Date(now.getTime() + (options.leaseMs ?? 60_000)),
    }),
  );
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
