import type { OutboxEvent } from "./outbox.js";

/**
 * Where outbox events go (a broker, an in-process bus). Delivery is at least once: the same
 * event (same `id`) may be published again after a relay crash, so consumers dedupe by id.
 */
export interface EventPublisher {
  /** Publishes the events; resolves only when all are durably accepted. Throws to retry them all. */
  publish(events: readonly OutboxEvent[]): Promise<void>;
}
