import { describe, expect, it } from "vitest";
import { relayOutboxOnce } from "../../outbox/outbox.js";
import type { OutboxEvent } from "../../ports/outbox.js";
import { seededRandom } from "../seeded-random.js";
import { at, T0 } from "./fixtures.js";
import type { StoreHarness } from "./harness.js";

const event = (id: string, aggregateId: string) => ({
  id,
  type: "payment.updated",
  aggregateType: "payment",
  aggregateId,
  payload: { id },
});

/**
 * The outbox's order by aggregate (`OutboxRepository.claim`): an event is claimed only with every
 * earlier unpublished event of its aggregate, between concurrent claims too, and relays built on
 * it never publish an event ahead of an earlier one of its aggregate.
 */
export function outboxOrderSuite(current: () => StoreHarness, concurrency: number): void {
  describe("outbox order by aggregate", () => {
    const claim = (h: StoreHarness, workerId: string, limit: number, now: Date, leaseMs = 30_000) =>
      h.store.transaction((tx) =>
        tx.outbox.claim({ workerId, limit, now, leaseUntil: new Date(now.getTime() + leaseMs) }),
      );
    const ids = (events: readonly OutboxEvent[]) => events.map((e) => e.id);

    it("claims no event past an earlier one of its aggregate that is leased or backing off, and skips to other aggregates", async () => {
      const h = current();
      await h.store.transaction((tx) =>
        tx.outbox.append([event("a1", "a"), event("a2", "a"), event("b1", "b"), event("c1", "c")], T0),
      );
      // A limit that cuts an aggregate keeps its head: a1 alone.
      expect(ids(await claim(h, "r1", 1, at(1), 1_000))).toEqual(["a1"]);
      // a1 is leased to r1: a2 waits for it, and takes no room in a claim; b and c go.
      expect(ids(await claim(h, "r2", 1, at(2)))).toEqual(["b1"]);
      expect(ids(await claim(h, "r2", 10, at(2)))).toEqual(["c1"]);
      await h.store.transaction((tx) => tx.outbox.append([event("a3", "a"), event("b2", "b")], at(3)));
      expect(ids(await claim(h, "r2", 10, at(4)))).toEqual([]);
      // r1's publish failed: a1 backs off until at(5_000); a2 and a3 still wait.
      await h.store.transaction((tx) =>
        tx.outbox.release({ ids: ["a1"], workerId: "r1", availableAt: at(5_000), error: "broker down" }),
      );
      await h.store.transaction((tx) =>
        tx.outbox.markPublished({ ids: ["b1", "c1"], workerId: "r2", now: at(5) }),
      );
      expect(ids(await claim(h, "r2", 10, at(6)))).toEqual(["b2"]);
      // Due again: the aggregate's head and its later events come together, in append order.
      expect(ids(await claim(h, "r3", 10, at(5_000)))).toEqual(["a1", "a2", "a3"]);
      // b2 is leased to r2: b3 waits for it, then goes once b2 is published.
      await h.store.transaction((tx) => tx.outbox.append([event("b3", "b")], at(5_001)));
      expect(ids(await claim(h, "r4", 10, at(5_002)))).toEqual([]);
      await h.store.transaction((tx) =>
        tx.outbox.markPublished({ ids: ["b2"], workerId: "r2", now: at(5_003) }),
      );
      expect(ids(await claim(h, "r4", 10, at(5_004)))).toEqual(["b3"]);
      // r3 died holding a's events: once its lease expired, another relay takes them, in order.
      expect(ids(await claim(h, "r5", 10, at(35_000)))).toEqual(["a1", "a2", "a3"]);
    });

    it("concurrent claims never take an event without every earlier unpublished one of its aggregate", async () => {
      const h = current();
      const aggregates = Math.max(4, Math.floor(concurrency / 4));
      const appended: { id: string; aggregateId: string }[] = [];
      // Interleaved: each aggregate's events are spread over the outbox.
      for (let round = 0; round < 4; round++) {
        const batch = Array.from({ length: aggregates }, (_, a) => event(`e${round}-${a}`, `agg-${a}`));
        appended.push(...batch);
        await h.store.transaction((tx) => tx.outbox.append(batch, at(round)));
      }
      const batches = await Promise.all(
        Array.from({ length: 8 }, (_, w) => claim(h, `w${w}`, 3 + (w % 4) * 5, at(10))),
      );
      const claimed = batches.flat();
      expect(new Set(ids(claimed)).size).toBe(claimed.length);
      expect(claimed.length).toBeGreaterThan(0);
      const position = new Map(appended.map((e, i) => [e.id, i]));
      for (const batch of batches) {
        const mine = new Set(ids(batch));
        // Nothing is published: every earlier event of a claimed event's aggregate is in its batch.
        for (const e of batch) {
          for (const earlier of appended.slice(0, position.get(e.id)))
            if (earlier.aggregateId === e.aggregateId)
              expect(mine.has(earlier.id), `${e.id} claimed without ${earlier.id}`).toBe(true);
        }
        // And a batch is in append order.
        expect(ids(batch)).toEqual([...ids(batch)].sort((x, y) => position.get(x)! - position.get(y)!));
      }
    });

    it("relays with a failing and slow publisher never let an event overtake an earlier one of its aggregate", async () => {
      const h = current();
      const random = seededRandom(19);
      const aggregates = 12;
      const perAggregate = 6;
      const appended = new Map<string, string[]>();
      // A broker with a duplicate window: the first acknowledged copy of an id is what consumers see.
      const stored: OutboxEvent[] = [];
      const storedIds = new Set<string>();
      let failures = 0;
      let slow = 0;
      const publisher = {
        async publish(events: readonly OutboxEvent[]) {
          for (const e of events) {
            const roll = random();
            // Slower than the lease at times: another relay takes the batch over meanwhile.
            const delay = roll < 0.1 ? 60 : Math.floor(roll * 4);
            if (delay >= 60) slow++;
            await new Promise((resolve) => setTimeout(resolve, delay));
            if (random() < 0.15) {
              failures++;
              throw new Error(`broker refused ${e.id}`);
            }
            if (!storedIds.has(e.id)) {
              storedIds.add(e.id);
              stored.push(e);
            }
          }
        },
      };
      let appending = true;
      const appender = (async () => {
        for (let n = 0; n < perAggregate; n++) {
          const batch = Array.from({ length: aggregates }, (_, a) => event(`ev${n}-${a}`, `agg-${a}`));
          for (const e of batch) appended.set(e.aggregateId, [...(appended.get(e.aggregateId) ?? []), e.id]);
          await h.store.transaction((tx) => tx.outbox.append(batch, new Date()));
          await new Promise((resolve) => setTimeout(resolve, 15));
        }
        appending = false;
      })();
      const backoff = { baseMs: 5, maxMs: 40, jitter: 0.5 };
      const relays = ["relay-a", "relay-b", "relay-c"].map(async (workerId, r) => {
        const until = Date.now() + 30_000;
        for (;;) {
          const limit = 2 + r * 3;
          const pass = await relayOutboxOnce(h.store, publisher, { workerId, limit, leaseMs: 40, backoff });
          if (pass.published + pass.failed === 0) {
            const pending = await h.store.transaction((tx) => tx.outbox.listPending({ limit: 1 }));
            if (!appending && pending.length === 0) return;
            if (Date.now() > until) throw new Error(`${workerId}: the outbox did not drain`);
            await new Promise((resolve) => setTimeout(resolve, 3));
          }
        }
      });
      await Promise.all([appender, ...relays]);
      expect(failures).toBeGreaterThan(0);
      expect(slow).toBeGreaterThan(0);
      expect(stored).toHaveLength(aggregates * perAggregate);
      for (const [aggregateId, expected] of appended) {
        expect(
          stored.filter((e) => e.aggregateId === aggregateId).map((e) => e.id),
          `the events of ${aggregateId} as consumers see them`,
        ).toEqual(expected);
      }
    });
  });
}
