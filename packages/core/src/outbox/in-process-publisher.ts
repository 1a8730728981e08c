import type { EventPublisher } from "../ports/events.js";
import type { OutboxEvent } from "../ports/outbox.js";

export interface InProcessPublisher extends EventPublisher {
  /** Calls `listener` with every published event; returns the unsubscribe function. */
  subscribe(listener: (event: OutboxEvent) => void): () => void;
}

/** An in-process publisher: hands events to listeners (the default when no broker is set up). */
export function inProcessPublisher(): EventPublisher & {
  subscribe(listener: (event: OutboxEvent) => void): () => void;
} {
  const listeners = new Set<(event: OutboxEvent) => void>();
  return {
    async publish(events) {
      for (const event of events) for (const listener of listeners) listener(event);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
