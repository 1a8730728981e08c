import { EVENT_SCHEMA_VERSION, type OutboxEvent } from "@settlekit/core";
import { outboxEventFixture } from "@settlekit/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type ConsumedEvent,
  consumeEvents,
  deadLetterSubject,
  type EventConsumer,
  EventHeaders,
  ensureStream,
  MSG_ID_HEADER,
  memoryDedupeStore,
  natsPublisher,
} from "../src/index.js";
import { nextOn, requireNats, type TestStream, testStream, waitFor } from "./support/nats.js";

const up = await requireNats();

const event = (aggregateId: string, type: string, payload: OutboxEvent["payload"] = { schema_version: 1 }) =>
  outboxEventFixture({ aggregateId, type, payload, createdAt: new Date("2026-12-02T05:00:00.000Z") });

describe.skipIf(!up)("consumeEvents on JetStream", () => {
  let t: TestStream;
  const consumers: EventConsumer[] = [];
  beforeEach(async () => {
    t = await testStream("cons");
  });
  afterEach(async () => {
    for (const consumer of consumers.splice(0)) await consumer.stop();
    await t.close();
  });
  const start = async (options: Omit<Parameters<typeof consumeEvents>[1], "stream" | "subjectPrefix">) => {
    const consumer = await consumeEvents(t.js, { stream: t.stream, subjectPrefix: t.prefix, ...options });
    consumers.push(consumer);
    return consumer;
  };

  it("hands each event to the handler with its id, headers and payload, and acknowledges it", async () => {
    const seen: ConsumedEvent[] = [];
    await start({ durable: "analytics", filter: `${t.prefix}.payment.>`, handler: (e) => void seen.push(e) });
    const events = [
      event("pay_1", "payment.created", { schema_version: 1, amount: "1800", currency: "USD" }),
      event("pay_1", "payment.succeeded", { schema_version: 2, amount: "1800", currency: "USD" }),
      event("pay_1", "refund.succeeded", { amount: "100" }),
    ];
    await natsPublisher(t.js, { subjectPrefix: t.prefix, stream: t.stream }).publish(events);
    await waitFor(() => seen.length === 3, "3 events");
    expect(
      seen.map((e) => [e.id, e.type, e.subject, e.schemaVersion, e.aggregateId, e.deliveryCount]),
    ).toEqual([
      [events[0]!.id, "payment.created", `${t.prefix}.payment.created`, "1", "pay_1", 1],
      [events[1]!.id, "payment.succeeded", `${t.prefix}.payment.succeeded`, "2", "pay_1", 1],
      // No schema_version in the payload: the header says core's current one.
      [
        events[2]!.id,
        "refund.succeeded",
        `${t.prefix}.payment.refund.succeeded`,
        String(EVENT_SCHEMA_VERSION),
        "pay_1",
        1,
      ],
    ]);
    expect(seen[0]!.payload).toEqual({ schema_version: 1, amount: "1800", currency: "USD" });
    expect(seen[0]!.createdAt.toISOString()).toBe("2026-12-02T05:00:00.000Z");
    await waitFor(
      async () => (await t.jsm.consumers.info(t.stream, "analytics")).num_ack_pending === 0,
      "acks",
    );
    expect((await t.jsm.consumers.info(t.stream, "analytics")).num_pending).toBe(0);
  });

  it("a handler that throws 3 times then succeeds gets the event 4 times, then it is acknowledged", async () => {
    const deliveries: number[] = [];
    const errors: unknown[] = [];
    await start({
      durable: "flaky",
      filter: `${t.prefix}.payment.>`,
      maxDeliver: 5,
      backoff: [50, 100, 150],
      onError: (error) => errors.push(error),
      handler: (e) => {
        deliveries.push(e.deliveryCount);
        if (deliveries.length <= 3) throw new Error(`attempt ${deliveries.length} failed`);
      },
    });
    const started = Date.now();
    await natsPublisher(t.js, { subjectPrefix: t.prefix }).publish([event("pay_2", "payment.succeeded")]);
    await waitFor(() => deliveries.length === 4, "4 deliveries");
    expect(deliveries).toEqual([1, 2, 3, 4]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(50 + 100 + 150);
    expect(errors).toHaveLength(3);
    await waitFor(
      async () => (await t.jsm.consumers.info(t.stream, "flaky")).num_ack_pending === 0,
      "the ack",
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(deliveries).toHaveLength(4);
    expect((await t.jsm.streams.info(t.stream)).state.messages).toBe(1);
  });

  it("a handler that always throws: after maxDeliver the event goes to the dead-letter subject with its error", async () => {
    let calls = 0;
    await start({
      durable: "billing",
      filter: `${t.prefix}.payment.>`,
      maxDeliver: 3,
      backoff: [20],
      handler: () => {
        calls += 1;
        throw new Error(`billing is broken\r\n(call ${calls})`);
      },
    });
    const poisoned = event("pay_3", "payment.succeeded", { schema_version: 1, amount: "5" });
    await natsPublisher(t.js, { subjectPrefix: t.prefix }).publish([poisoned]);
    const dlq = deadLetterSubject("billing", t.prefix);
    const letter = await nextOn(t, dlq);
    expect(letter, "no dead letter arrived").not.toBeNull();
    expect(letter!.subject).toBe(`${t.prefix}.dlq.billing`);
    expect(letter!.json()).toEqual({ schema_version: 1, amount: "5" });
    expect(letter!.headers?.get(EventHeaders.Type)).toBe("payment.succeeded");
    expect(letter!.headers?.get(EventHeaders.AggregateId)).toBe("pay_3");
    expect(letter!.headers?.get(EventHeaders.DeadLetterError)).toBe("Error: billing is broken (call 3)");
    expect(letter!.headers?.get(EventHeaders.DeadLetterDeliveries)).toBe("3");
    expect(letter!.headers?.get(EventHeaders.DeadLetterSubject)).toBe(`${t.prefix}.payment.succeeded`);
    expect(letter!.headers?.get(MSG_ID_HEADER)).toBe(`dlq.billing.${poisoned.id}`);
    expect(calls).toBe(3);
    // Terminated: not delivered again.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(calls).toBe(3);
    const info = await t.jsm.consumers.info(t.stream, "billing");
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
  });

  it("with a dedupe store, an event published twice past the duplicate window is handled once", async () => {
    const handled: string[] = [];
    const dedupe = memoryDedupeStore();
    await start({
      durable: "marketing",
      filter: `${t.prefix}.payment.>`,
      dedupeStore: dedupe,
      handler: (e) => void handled.push(e.id),
    });
    const once = event("pay_4", "payment.succeeded");
    // A relay's retry after the stream's duplicate window: two stored copies of one event id.
    await ensureStream(t.jsm, {
      name: t.stream,
      subjectPrefix: t.prefix,
      duplicateWindowMs: 100,
      maxAgeMs: 3_600_000,
    });
    const publisher = natsPublisher(t.js, { subjectPrefix: t.prefix, stream: t.stream });
    await publisher.publish([once]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await publisher.publish([once]);
    expect((await t.jsm.streams.info(t.stream)).state.messages).toBe(2);
    await waitFor(
      async () => (await t.jsm.consumers.info(t.stream, "marketing")).num_pending === 0,
      "both read",
    );
    await waitFor(
      async () => (await t.jsm.consumers.info(t.stream, "marketing")).num_ack_pending === 0,
      "both acked",
    );
    expect(handled).toEqual([once.id]);
    expect(dedupe.size).toBe(1);
  });

  it("a message that is not a settlekit event is dead-lettered at once, unhandled", async () => {
    let calls = 0;
    await start({
      durable: "strict",
      filter: `${t.prefix}.payment.>`,
      handler: () => {
        calls += 1;
      },
    });
    await t.js.publish(`${t.prefix}.payment.stray`, "not json");
    const letter = await nextOn(t, deadLetterSubject("strict", t.prefix));
    expect(letter?.string()).toBe("not json");
    expect(letter?.headers?.get(EventHeaders.DeadLetterError)).toMatch(/not a settlekit event/);
    expect(calls).toBe(0);
  });

  it("refuses a filter that would read its own dead letters", async () => {
    await expect(start({ durable: "greedy", filter: `${t.prefix}.>`, handler: () => {} })).rejects.toThrow(
      /matches the dead-letter subject/,
    );
    await expect(
      start({ durable: "greedy", filter: [`${t.prefix}.*.*`], handler: () => {} }),
    ).rejects.toThrow(/matches the dead-letter subject/);
  });

  it("a restarted consumer resumes where its durable left off", async () => {
    const first: string[] = [];
    const publisher = natsPublisher(t.js, { subjectPrefix: t.prefix });
    const a = await start({
      durable: "resume",
      filter: `${t.prefix}.payment.>`,
      handler: (e) => void first.push(e.id),
    });
    const early = [event("pay_5", "payment.created"), event("pay_5", "payment.succeeded")];
    await publisher.publish(early);
    await waitFor(() => first.length === 2, "the first two");
    await waitFor(async () => (await t.jsm.consumers.info(t.stream, "resume")).num_ack_pending === 0, "acks");
    await a.stop();
    const late = [event("pay_6", "payment.created")];
    await publisher.publish(late);
    const second: string[] = [];
    await start({
      durable: "resume",
      filter: `${t.prefix}.payment.>`,
      handler: (e) => void second.push(e.id),
    });
    await waitFor(() => second.length === 1, "the late one");
    expect(first).toEqual(early.map((e) => e.id));
    expect(second).toEqual(late.map((e) => e.id));
  });
});
