/**
 * `@settlekit/events-nats`: settlekit's outbox events to internal services over NATS JetStream —
 * a publisher for the outbox relay (`natsPublisher`), the stream's settings (`ensureStream`) and
 * a consumer helper for the services (`consumeEvents`), deduplicated by event id.
 */
export type { ConsumedEvent, ConsumeEventsOptions, DedupeStore, EventConsumer } from "./consumer.js";
export { consumeEvents, memoryDedupeStore } from "./consumer.js";
export type { NatsPublisher, NatsPublisherOptions } from "./publisher.js";
export { natsPublisher } from "./publisher.js";
export type { EnsureStreamOptions } from "./stream.js";
export { DEFAULT_STREAM, ensureStream } from "./stream.js";
export {
  DEFAULT_SUBJECT_PREFIX,
  deadLetterSubject,
  EventHeaders,
  eventSubject,
  MSG_ID_HEADER,
} from "./subjects.js";
