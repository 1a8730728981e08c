import type { JsonValue } from "../../ports/json.js";
import type { OutboxEvent } from "../../ports/outbox.js";

let counter = 0;

/**
 * An outbox event as a relay hands it to a publisher: a fresh id (unique across processes and
 * runs), `aggregateType` `payment` unless given, not yet published.
 */
export function outboxEventFixture(input: {
  readonly aggregateId: string;
  readonly type: string;
  readonly payload?: JsonValue;
  readonly aggregateType?: string;
  readonly createdAt?: Date;
}): OutboxEvent {
  counter += 1;
  return {
    id: `evt_${Date.now().toString(36)}_${process.pid.toString(36)}_${Math.random().toString(36).slice(2, 8)}_${counter}`,
    type: input.type,
    aggregateType: input.aggregateType ?? "payment",
    aggregateId: input.aggregateId,
    payload:
      input.payload === undefined ? { schema_version: 1, aggregate: input.aggregateId } : input.payload,
    createdAt: input.createdAt ?? new Date(),
    attempts: 0,
    publishedAt: null,
    availableAt: new Date(),
    lastError: null,
  };
}
