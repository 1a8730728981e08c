import type { JsonValue } from "@settlekit/core";
import { type DeliveredEvent, runPublisherConformance } from "@settlekit/core/testing";
import { describe, it } from "vitest";
import { EventHeaders, MSG_ID_HEADER, natsPublisher } from "../src/index.js";
import { requireNats, type TestStream, testStream } from "./support/nats.js";

/** Every message the stream stores, in stream order, read with an ordered consumer. */
async function storedEvents(t: TestStream): Promise<DeliveredEvent[]> {
  const info = await t.jsm.streams.info(t.stream);
  const count = info.state.messages;
  if (count === 0) return [];
  const consumer = await t.js.consumers.get(t.stream);
  const events: DeliveredEvent[] = [];
  const messages = await consumer.fetch({ max_messages: count, expires: 5_000 });
  for await (const msg of messages) {
    events.push({
      id: msg.headers?.get(MSG_ID_HEADER) ?? "",
      type: msg.headers?.get(EventHeaders.Type) ?? "",
      aggregateType: msg.headers?.get(EventHeaders.AggregateType) ?? "",
      aggregateId: msg.headers?.get(EventHeaders.AggregateId) ?? "",
      payload: msg.json<JsonValue>(),
    });
    if (events.length === count) break;
  }
  return events;
}

if (await requireNats()) {
  runPublisherConformance({
    name: "NATS JetStream",
    makePublisher: async () => {
      const t = await testStream("conf");
      const subjects = (await t.jsm.streams.info(t.stream)).config.subjects;
      const setSubjects = async (next: string[]) => {
        const { config } = await t.jsm.streams.info(t.stream);
        await t.jsm.streams.update(t.stream, { ...config, subjects: next });
      };
      return {
        publisher: natsPublisher(t.js, { subjectPrefix: t.prefix, stream: t.stream, timeoutMs: 2_000 }),
        delivered: () => storedEvents(t),
        // The stream stops taking the events' subjects: publishes find no stream and fail.
        breakBroker: () => setSubjects([`${t.prefix}-elsewhere.>`]),
        restore: () => setSubjects(subjects),
        cleanup: () => t.close(),
      };
    },
  });
} else {
  describe.skip("EventPublisher conformance: NATS JetStream (NATS is down)", () => {
    it("needs NATS", () => {});
  });
}
