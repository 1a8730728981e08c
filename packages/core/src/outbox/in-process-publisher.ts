import type { EventPublisher } from "../ports/events.js";
import type { OutboxEvent } from "../ports/outbox.js";

export interface InProcessPublisher extends EventPublisher {
  /** Calls `listener` with every published event; returns the unsubscribe function. */
  subscribe(listener: (event: OutboxEvent) => void): () => void;
}

export interface InProcessPublisherOptions {
  /**
   * How many recent event ids to remember so that re-publishing one (a relay's retry after a
   * crash) does not reach the listeners again, like a broker's duplicate window. Default 0: every
   * publish reaches the listeners (at least once).
   */
  readonly dedupeWindow?: number;
}

/**
 * An in-process publisher: hands events to listeners (the default when no broker is set up). A
 * listener that throws fails the publish (the relay retries the batch); events of the batch after
 * it are not handed out.
 */
export function inProcessPublisher(options: InProcessPublisherOptions = {}): InProcessPublisher {
  const listeners = new Set<(event: OutboxEvent) => void>();
  const window = options.dedupeWindow ?? 0;
  const recent = new Set<string>();
  return {
    async publish(events) {
      for (const event of events) {
        if (window > 0 && recent.has(event.id)) continue;
        for (const listener of listeners) listener(event);
        if (window > 0) {
          recent.add(event.id);
          if (recent.size > window) recent.delete(recent.values().next().value as string);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
