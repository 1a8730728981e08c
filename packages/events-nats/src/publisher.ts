import type { JetStreamClient, PubAck } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import type { EventPublisher, OutboxEvent } from "@settlekit/core";
import { EVENT_SCHEMA_VERSION } from "@settlekit/core";
import { DEFAULT_SUBJECT_PREFIX, EventHeaders, eventSubject } from "./subjects.js";

export interface NatsPublisherOptions {
  /** The first subject token (default `settlekit`). */
  readonly subjectPrefix?: string;
  /**
   * The stream the events must land in; a publish the server would store elsewhere is refused
   * (`expect.streamName`) and throws. Recommended: the stream `ensureStream` created.
   */
  readonly stream?: string;
  /** How long to wait for each `PubAck` (ms, default: the client's, 5 s). */
  readonly timeoutMs?: number;
}

export interface NatsPublisher extends EventPublisher {
  /** The subject an event is published to. */
  subjectOf(event: Pick<OutboxEvent, "type" | "aggregateType">): string;
}

/** The payload's `schema_version` (every settlekit event has one: core's `eventSchemas` pin it). */
function schemaVersion(event: OutboxEvent): string {
  const payload = event.payload;
  if (payload !== null && typeof payload === "object" && !Array.isArray(payload)) {
    const version = (payload as Record<string, unknown>).schema_version;
    if (typeof version === "number" || typeof version === "string") return String(version);
  }
  return String(EVENT_SCHEMA_VERSION);
}

/**
 * An `EventPublisher` on NATS JetStream, over a connection the host creates.
 *
 * Each event is published to `eventSubject(event)` with its id as `Nats-Msg-Id`, so the stream's
 * duplicate window drops a relay's re-publish after a crash; its payload as JSON is the body, and
 * headers carry the type, schema version, aggregate type and id and creation time.
 *
 * `publish` resolves only when every event has its `PubAck`. Events of one aggregate are
 * published one after the other (the next only after the previous one's `PubAck`), so a later
 * event never overtakes an earlier one; different aggregates are published concurrently. On the
 * first failure of an aggregate its later events are not sent, and `publish` throws once the
 * others have settled: the relay then re-publishes the whole batch, and what was already stored
 * comes back as a duplicate and is not stored again.
 */
export function natsPublisher(js: JetStreamClient, options: NatsPublisherOptions = {}): NatsPublisher {
  const prefix = options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX;
  const encoder = new TextEncoder();

  async function publishOne(event: OutboxEvent): Promise<PubAck> {
    const subject = eventSubject(event, prefix);
    const h = headers();
    h.set(EventHeaders.Type, event.type);
    h.set(EventHeaders.SchemaVersion, schemaVersion(event));
    h.set(EventHeaders.AggregateType, event.aggregateType);
    h.set(EventHeaders.AggregateId, event.aggregateId);
    h.set(EventHeaders.CreatedAt, event.createdAt.toISOString());
    const ack = await js.publish(subject, encoder.encode(JSON.stringify(event.payload)), {
      msgID: event.id,
      headers: h,
      ...(options.stream === undefined ? {} : { expect: { streamName: options.stream } }),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    });
    if (options.stream !== undefined && ack.stream !== options.stream) {
      throw new Error(`Event ${event.id} was stored in stream ${ack.stream}, not ${options.stream}`);
    }
    return ack;
  }

  return {
    subjectOf: (event) => eventSubject(event, prefix),
    async publish(events) {
      // Subjects first: an event that cannot be published fails the batch before anything is sent.
      for (const event of events) eventSubject(event, prefix);
      const chains = new Map<string, OutboxEvent[]>();
      for (const event of events) {
        const key = `${event.aggregateType}\u0000${event.aggregateId}`;
        const chain = chains.get(key);
        if (chain) chain.push(event);
        else chains.set(key, [event]);
      }
      const results = await Promise.allSettled(
        [...chains.values()].map(async (chain) => {
          for (const event of chain) await publishOne(event);
        }),
      );
      const failures = results.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
      if (failures.length > 0) {
        const first = failures[0];
        const message = first instanceof Error ? first.message : String(first);
        throw new Error(
          `NATS publish failed for ${failures.length} of ${chains.size} aggregates in a batch of ${events.length} events: ${message}`,
          { cause: first },
        );
      }
    },
  };
}
