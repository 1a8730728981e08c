import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { JsonValue } from "../../ports/json.js";
import type { OutboxEvent } from "../../ports/outbox.js";
import { outboxEventFixture } from "./fixtures.js";
import type { PublisherConformanceOptions, PublisherHarness } from "./harness.js";

/** An outbox event as a relay hands it to a publisher. */
const outboxEvent = (aggregateId: string, type: string, payload?: JsonValue): OutboxEvent =>
  outboxEventFixture({ aggregateId, type, ...(payload === undefined ? {} : { payload }) });

/** Events by id: the order across aggregates is not part of the contract. */
const byId = <T extends { id: string }>(events: readonly T[]): T[] =>
  [...events].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

const essentials = (event: OutboxEvent) => ({
  id: event.id,
  type: event.type,
  aggregateType: event.aggregateType,
  aggregateId: event.aggregateId,
  payload: event.payload,
});

/**
 * The suite every `EventPublisher` must pass, registered as vitest tests; each test gets a fresh
 * publisher and its broker from `makePublisher` (see {@link PublisherHarness}). Covered: what a
 * publish acknowledged is delivered (ids, types, aggregates, payloads exact); re-publishing the
 * same ids, alone or inside a larger batch after a partial failure, delivers nothing new; a broker
 * that refuses surfaces as a throw (so the relay retries) and the retry delivers each event once;
 * events of one aggregate are delivered in publish order, within and across batches.
 */
export function runPublisherConformance(options: PublisherConformanceOptions): void {
  describe(`EventPublisher conformance: ${options.name}`, () => {
    let harness: PublisherHarness | undefined;
    beforeEach(async () => {
      harness = await options.makePublisher();
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });
    const current = (): PublisherHarness => {
      if (!harness) throw new Error("publisher harness not ready");
      return harness;
    };

    it("delivers every event of an acknowledged publish, exactly as given", async () => {
      const h = current();
      const events = [
        outboxEvent("pay_a", "payment.created", { schema_version: 1, amount: "1800", currency: "USD" }),
        outboxEvent("pay_a", "payment.succeeded", {
          schema_version: 1,
          amount: "1800",
          nested: { list: [1, "x", null] },
        }),
        outboxEvent("pay_b", "payment.created", null),
        outboxEvent("pay_b", "refund.succeeded", { refund_id: "re_1", amount: "600" }),
        outboxEvent("pay_c", "payment_order.fulfilled", ["a", true, 3]),
      ];
      await h.publisher.publish(events);
      expect(byId(await h.delivered())).toEqual(byId(events.map(essentials)));
    });

    it("an empty batch resolves and delivers nothing", async () => {
      const h = current();
      await h.publisher.publish([]);
      expect(await h.delivered()).toEqual([]);
    });

    it("re-publishing the same ids delivers nothing new", async () => {
      const h = current();
      const events = [outboxEvent("pay_a", "payment.created"), outboxEvent("pay_a", "payment.succeeded")];
      await h.publisher.publish(events);
      await h.publisher.publish(events);
      await h.publisher.publish([events[1]!]);
      expect(await h.delivered()).toEqual(events.map(essentials));
    });

    it("a batch re-published whole after a partial failure delivers each event once", async () => {
      const h = current();
      const first = [outboxEvent("pay_a", "payment.created"), outboxEvent("pay_b", "payment.created")];
      await h.publisher.publish(first);
      const batch = [
        ...first,
        outboxEvent("pay_a", "payment.succeeded"),
        outboxEvent("pay_c", "payment.created"),
      ];
      await h.publisher.publish(batch);
      const delivered = await h.delivered();
      expect(delivered.map((event) => event.id).sort()).toEqual(batch.map((event) => event.id).sort());
      expect(byId(delivered.slice(0, 2))).toEqual(byId(first.map(essentials)));
    });

    it("a broker that refuses makes publish throw; the retry delivers each event once", async () => {
      const h = current();
      const events = [outboxEvent("pay_a", "payment.created"), outboxEvent("pay_a", "payment.succeeded")];
      await h.breakBroker();
      let threw = false;
      try {
        await h.publisher.publish(events);
      } catch {
        threw = true;
      }
      expect(threw, "publish resolved although the broker refused it").toBe(true);
      await h.restore();
      await h.publisher.publish(events);
      await h.publisher.publish(events);
      expect(await h.delivered()).toEqual(events.map(essentials));
    });

    it("keeps the publish order of each aggregate, within and across batches", async () => {
      const h = current();
      const first = [
        outboxEvent("pay_a", "payment.created"),
        outboxEvent("pay_b", "payment.created"),
        outboxEvent("pay_a", "payment.succeeded"),
        outboxEvent("pay_c", "payment.created"),
        outboxEvent("pay_b", "payment.failed"),
        outboxEvent("pay_a", "refund.succeeded"),
      ];
      const second = [
        outboxEvent("pay_c", "payment.succeeded"),
        outboxEvent("pay_a", "payment_order.fulfilled"),
        outboxEvent("pay_b", "payment.created"),
      ];
      await h.publisher.publish(first);
      await h.publisher.publish(second);
      const delivered = await h.delivered();
      const all = [...first, ...second];
      expect(delivered.map((event) => event.id).sort()).toEqual(all.map((event) => event.id).sort());
      for (const aggregate of ["pay_a", "pay_b", "pay_c"]) {
        expect(
          delivered.filter((event) => event.aggregateId === aggregate).map((event) => event.id),
          `the events of ${aggregate}`,
        ).toEqual(all.filter((event) => event.aggregateId === aggregate).map((event) => event.id));
      }
    });
  });
}
