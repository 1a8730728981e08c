import type { JetStreamClient } from "@nats-io/jetstream";
import type { OutboxEvent } from "@settlekit/core";
import { EVENT_SCHEMA_VERSION, EVENT_TYPES, eventSchemaFor } from "@settlekit/core";
import { outboxEventFixture } from "@settlekit/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DEFAULT_STREAM,
  deadLetterSubject,
  EventHeaders,
  ensureStream,
  eventSubject,
  MSG_ID_HEADER,
  natsPublisher,
} from "../src/index.js";
import { nextOn, requireNats, type TestStream, testStream } from "./support/nats.js";

const up = await requireNats();

let n = 0;
function event(aggregateId: string, type: string, aggregateType = "payment"): OutboxEvent {
  n += 1;
  return outboxEventFixture({
    aggregateId,
    type,
    aggregateType,
    payload: { schema_version: 3, n },
    createdAt: new Date("2026-12-02T05:30:00.000Z"),
  });
}

describe("subjects", () => {
  it("maps an event to <prefix>.<aggregateType>.<type>, without repeating the aggregate type", () => {
    expect(eventSubject({ aggregateType: "payment", type: "payment.succeeded" })).toBe(
      "settlekit.payment.succeeded",
    );
    expect(eventSubject({ aggregateType: "payment", type: "refund.succeeded" })).toBe(
      "settlekit.payment.refund.succeeded",
    );
    expect(eventSubject({ aggregateType: "payment", type: "payment_order.fulfilled" }, "shop")).toBe(
      "shop.payment.payment_order.fulfilled",
    );
    expect(eventSubject({ aggregateType: "payout", type: "paid" })).toBe("settlekit.payout.paid");
    expect(deadLetterSubject("analytics")).toBe("settlekit.dlq.analytics");
  });

  it("refuses types and prefixes that are not plain subject tokens", () => {
    for (const type of [
      "",
      "payment..succeeded",
      "payment.*",
      "payment.>",
      "pay ment",
      "payment.succeeded.",
    ]) {
      expect(() => eventSubject({ aggregateType: "payment", type }), type).toThrow(
        /cannot be used in a NATS subject/,
      );
    }
    expect(() => eventSubject({ aggregateType: "pay.ment", type: "x" }, "a b")).toThrow(/subject prefix/);
    expect(() => deadLetterSubject("a.*")).toThrow(/durable name/);
  });
});

describe.skipIf(!up)("natsPublisher and ensureStream on JetStream", () => {
  let t: TestStream;
  beforeEach(async () => {
    t = await testStream("pub");
  });
  afterEach(async () => {
    await t.close();
  });

  it("publishes the payload as JSON with the event id as Nats-Msg-Id and the event's headers", async () => {
    const e = event("pay_h", "payment.succeeded");
    await natsPublisher(t.js, { subjectPrefix: t.prefix, stream: t.stream }).publish([e]);
    const msg = await nextOn(t, `${t.prefix}.payment.succeeded`);
    expect(msg?.json()).toEqual(e.payload);
    expect(msg?.headers?.get(MSG_ID_HEADER)).toBe(e.id);
    expect(msg?.headers?.get(EventHeaders.Type)).toBe("payment.succeeded");
    expect(msg?.headers?.get(EventHeaders.SchemaVersion)).toBe("3");
    expect(msg?.headers?.get(EventHeaders.AggregateType)).toBe("payment");
    expect(msg?.headers?.get(EventHeaders.AggregateId)).toBe("pay_h");
    expect(msg?.headers?.get(EventHeaders.CreatedAt)).toBe("2026-12-02T05:30:00.000Z");
  });

  it("the schema version header is the version core's JSON Schema of the event type pins", async () => {
    const versions = new Set(
      EVENT_TYPES.map(
        (type) =>
          (eventSchemaFor(type)!.properties as Record<string, { const: number }>).schema_version!.const,
      ),
    );
    expect([...versions]).toEqual([EVENT_SCHEMA_VERSION]);
    const publisher = natsPublisher(t.js, { subjectPrefix: t.prefix, stream: t.stream });
    const typed = outboxEventFixture({
      aggregateId: "pay_v",
      type: "payment.created",
      payload: { schema_version: EVENT_SCHEMA_VERSION },
    });
    const bare = outboxEventFixture({ aggregateId: "pay_w", type: "payment.failed", payload: { n: 1 } });
    await publisher.publish([typed, bare]);
    for (const subject of ["payment.created", "payment.failed"]) {
      const msg = await nextOn(t, `${t.prefix}.${subject}`);
      expect(msg?.headers?.get(EventHeaders.SchemaVersion)).toBe(String(EVENT_SCHEMA_VERSION));
    }
  });

  it("throws when the stream that takes the subject is not the one named", async () => {
    const publisher = natsPublisher(t.js, { subjectPrefix: t.prefix, stream: "SOME_OTHER_STREAM" });
    await expect(publisher.publish([event("pay_x", "payment.created")])).rejects.toThrow(
      /NATS publish failed/,
    );
    expect((await t.jsm.streams.info(t.stream)).state.messages).toBe(0);
  });

  it("an event that cannot be published fails the batch before anything is sent", async () => {
    const publisher = natsPublisher(t.js, { subjectPrefix: t.prefix });
    await expect(
      publisher.publish([event("pay_y", "payment.created"), event("pay_y", "bad type")]),
    ).rejects.toThrow(/cannot be used in a NATS subject/);
    expect((await t.jsm.streams.info(t.stream)).state.messages).toBe(0);
  });

  it("stops an aggregate at its first failed publish (nothing later overtakes it); other aggregates go on", async () => {
    const failing = new Set<string>();
    const js = new Proxy(t.js, {
      get(target, key, receiver) {
        if (key !== "publish") return Reflect.get(target, key, receiver);
        return (subject: string, data: Uint8Array, opts: { msgID?: string }) =>
          opts.msgID !== undefined && failing.has(opts.msgID)
            ? Promise.reject(new Error("timeout (test)"))
            : target.publish(subject, data, opts);
      },
    }) as JetStreamClient;
    const publisher = natsPublisher(js, { subjectPrefix: t.prefix, stream: t.stream });
    const a1 = event("pay_a", "payment.created");
    const a2 = event("pay_a", "payment.succeeded");
    const a3 = event("pay_a", "payment_order.fulfilled");
    const b1 = event("pay_b", "payment.created");
    const b2 = event("pay_b", "payment.succeeded");
    failing.add(a2.id);
    await expect(publisher.publish([a1, b1, a2, b2, a3])).rejects.toThrow(
      /1 of 2 aggregates.*timeout \(test\)/,
    );
    const stored = async () => {
      const info = await t.jsm.streams.info(t.stream);
      const ids: string[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await t.jsm.streams.getMessage(t.stream, { seq });
        ids.push(m!.header.get(MSG_ID_HEADER));
      }
      return ids;
    };
    expect((await stored()).sort()).toEqual([a1.id, b1.id, b2.id].sort());
    failing.clear();
    await publisher.publish([a1, b1, a2, b2, a3]);
    const ids = await stored();
    expect(ids.filter((id) => [a1.id, a2.id, a3.id].includes(id))).toEqual([a1.id, a2.id, a3.id]);
    expect(ids.filter((id) => [b1.id, b2.id].includes(id))).toEqual([b1.id, b2.id]);
    expect(ids).toHaveLength(5);
  });

  it("ensureStream is idempotent and updates the settings of a stream that exists", async () => {
    const before = await t.jsm.streams.info(t.stream);
    expect(before.config.storage).toBe("file");
    expect(before.config.subjects).toEqual([`${t.prefix}.>`]);
    expect(before.config.duplicate_window).toBe(120_000 * 1_000_000);
    const again = await ensureStream(t.jsm, {
      name: t.stream,
      subjectPrefix: t.prefix,
      duplicateWindowMs: 120_000,
      maxAgeMs: 3_600_000,
    });
    expect(again.config).toEqual(before.config);
    expect(again.created).toEqual(before.created);
    const changed = await ensureStream(t.jsm, {
      name: t.stream,
      subjectPrefix: t.prefix,
      duplicateWindowMs: 300_000,
      maxAgeMs: 7_200_000,
      maxBytes: 10_000_000,
    });
    expect(changed.config.duplicate_window).toBe(300_000 * 1_000_000);
    expect(changed.config.max_age).toBe(7_200_000 * 1_000_000);
    expect(changed.config.max_bytes).toBe(10_000_000);
    expect(changed.created).toEqual(before.created);
  });

  it("ensureStream refuses a duplicate window longer than the max age, and a memory stream", async () => {
    await expect(
      ensureStream(t.jsm, { name: t.stream, duplicateWindowMs: 10_000, maxAgeMs: 5_000 }),
    ).rejects.toThrow(/cannot exceed the max age/);
    const memory = `${t.stream}_MEM`;
    await t.jsm.streams.add({ name: memory, subjects: [`${t.prefix}mem.>`], storage: "memory" });
    try {
      await expect(ensureStream(t.jsm, { name: memory, subjectPrefix: `${t.prefix}mem` })).rejects.toThrow(
        /memory storage/,
      );
    } finally {
      await t.jsm.streams.delete(memory);
    }
    expect(DEFAULT_STREAM).toBe("SETTLEKIT_EVENTS");
  });
});
