import type { EventPublisher } from "../../ports/events.js";
import type { JsonValue } from "../../ports/json.js";

/** An event as the broker delivered it, read back by the harness. */
export interface DeliveredEvent {
  readonly id: string;
  readonly type: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly payload: JsonValue;
}

/** What `runPublisherConformance` gets for each test: a fresh publisher and its broker's drivers. */
export interface PublisherHarness {
  readonly publisher: EventPublisher;
  /** Everything the broker holds or handed out so far, in delivery order (each stored copy once). */
  delivered(): Promise<readonly DeliveredEvent[]>;
  /** Makes the broker refuse publishes (down, unreachable, no stream) until `restore()`. */
  breakBroker(): Promise<void>;
  restore(): Promise<void>;
  cleanup(): Promise<void>;
}

export interface PublisherConformanceOptions {
  /** Shown in the suite's title. */
  readonly name: string;
  readonly makePublisher: () => Promise<PublisherHarness>;
}
