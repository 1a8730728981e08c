import { inProcessPublisher, type OutboxEvent } from "../../src/index.js";
import { runPublisherConformance } from "../../src/testing/index.js";

runPublisherConformance({
  name: "in-process (dedupe window)",
  makePublisher: async () => {
    const publisher = inProcessPublisher({ dedupeWindow: 1_000 });
    const delivered: OutboxEvent[] = [];
    let broken = false;
    // Subscribed first: a refusing "broker" hands nothing to the listeners after it.
    publisher.subscribe(() => {
      if (broken) throw new Error("the in-process bus refuses (test)");
    });
    publisher.subscribe((event) => delivered.push(event));
    return {
      publisher,
      delivered: async () =>
        delivered.map(({ id, type, aggregateType, aggregateId, payload }) => ({
          id,
          type,
          aggregateType,
          aggregateId,
          payload,
        })),
      breakBroker: async () => {
        broken = true;
      },
      restore: async () => {
        broken = false;
      },
      cleanup: async () => {},
    };
  },
});
