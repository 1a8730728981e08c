import { describe, expect, it } from "vitest";
import { at, T0 } from "./fixtures.js";
import type { StoreHarness } from "./harness.js";

const event = (id: string) => ({
  id,
  type: "payment.succeeded",
  aggregateType: "payment",
  aggregateId: `chk-${id}`,
  payload: { id, amount: "1000", nested: { ok: true } },
});

/** Outbox append, claim leases, publish and retry. */
export function outboxSuite(current: () => StoreHarness, concurrency: number): void {
  describe("outbox", () => {
    const append = (h: StoreHarness, ids: string[], now = T0) =>
      h.store.transaction((tx) => tx.outbox.append(ids.map(event), now));
    const claim = (h: StoreHarness, workerId: string, limit: number, now = T0, leaseMs = 30_000) =>
      h.store.transaction((tx) =>
        tx.outbox.claim({ workerId, limit, now, leaseUntil: new Date(now.getTime() + leaseMs) }),
      );

    it("appends events and claims them oldest first, with their payloads intact", async () => {
      const h = current();
      await append(h, ["e1", "e2"]);
      await append(h, ["e3"], at(1));
      const claimed = await claim(h, "w1", 2, at(2));
      expect(claimed.map((e) => e.id)).toEqual(["e1", "e2"]);
      expect(claimed[0]).toMatchObject({ ...event("e1"), attempts: 0, publishedAt: null, lastError: null });
      expect(claimed[0]?.createdAt).toEqual(T0);
    });

    it("appends hundreds of events in one call, in order", async () => {
      const h = current();
      const ids = Array.from({ length: 250 }, (_, i) => `bulk${String(i).padStart(3, "0")}`);
      await append(h, ids);
      await append(h, []);
      const pending = await h.store.transaction((tx) => tx.outbox.listPending({ limit: 1_000 }));
      expect(pending.map((e) => e.id)).toEqual(ids);
      expect(pending[249]).toMatchObject(event("bulk249"));
    });

    it("never hands the same event to two concurrent claimers", async () => {
      const h = current();
      const ids = Array.from({ length: concurrency }, (_, i) => `e${String(i).padStart(3, "0")}`);
      await append(h, ids);
      const batches = await Promise.all(Array.from({ length: 8 }, (_, w) => claim(h, `w${w}`, 10, at(1))));
      const claimed = batches.flat().map((e) => e.id);
      expect(new Set(claimed).size).toBe(claimed.length);
      expect(claimed.length).toBe(Math.min(concurrency, 80));
    });

    it("hides leased events until the lease expires, then lets another relay take them", async () => {
      const h = current();
      await append(h, ["e1"]);
      expect(await claim(h, "w1", 10, at(0), 1_000)).toHaveLength(1);
      expect(await claim(h, "w2", 10, at(999))).toHaveLength(0);
      const retaken = await claim(h, "w2", 10, at(1_001));
      expect(retaken.map((e) => e.id)).toEqual(["e1"]);
      // The first relay lost its lease: its acknowledgement changes nothing.
      expect(
        await h.store.transaction((tx) =>
          tx.outbox.markPublished({ ids: ["e1"], workerId: "w1", now: at(1_002) }),
        ),
      ).toBe(0);
      expect(
        await h.store.transaction((tx) =>
          tx.outbox.markPublished({ ids: ["e1"], workerId: "w2", now: at(1_002) }),
        ),
      ).toBe(1);
    });

    it("never claims a published event again", async () => {
      const h = current();
      await append(h, ["e1", "e2"]);
      await claim(h, "w1", 10, at(1));
      await h.store.transaction((tx) => tx.outbox.markPublished({ ids: ["e1"], workerId: "w1", now: at(2) }));
      const published = await h.store.transaction((tx) => tx.outbox.get("e1"));
      expect(published?.publishedAt).toEqual(at(2));
      const later = await claim(h, "w2", 10, at(10_000_000));
      expect(later.map((e) => e.id)).toEqual(["e2"]);
      const pending = await h.store.transaction((tx) => tx.outbox.listPending());
      expect(pending.map((e) => e.id)).toEqual(["e2"]);
    });

    it("releases a failed batch for a retry at a later time, counting the attempt", async () => {
      const h = current();
      await append(h, ["e1"]);
      await claim(h, "w1", 10, at(1));
      const released = await h.store.transaction((tx) =>
        tx.outbox.release({ ids: ["e1"], workerId: "w1", availableAt: at(5_000), error: "broker down" }),
      );
      expect(released).toBe(1);
      expect(await claim(h, "w2", 10, at(4_999))).toHaveLength(0);
      const retried = await claim(h, "w2", 10, at(5_000));
      expect(retried[0]).toMatchObject({ id: "e1", attempts: 1, lastError: "broker down" });
    });

    it("lists one aggregate's events in append order, published or not, paged by afterId", async () => {
      const h = current();
      const of = (id: string, aggregateId: string) => ({ ...event(id), aggregateId });
      await h.store.transaction((tx) =>
        tx.outbox.append([of("e1", "chk-a"), of("e2", "chk-b"), of("e3", "chk-a")], T0),
      );
      await h.store.transaction((tx) => tx.outbox.append([of("e0", "chk-a")], at(1)));
      await claim(h, "w1", 1, at(2));
      await h.store.transaction((tx) => tx.outbox.markPublished({ ids: ["e1"], workerId: "w1", now: at(3) }));
      const list = (query: { limit?: number; afterId?: string } = {}) =>
        h.store.transaction((tx) =>
          tx.outbox.listByAggregate({ aggregateType: "payment", aggregateId: "chk-a", ...query }),
        );
      // Append order, not id order: "e0" was appended last.
      expect((await list()).map((e) => e.id)).toEqual(["e1", "e3", "e0"]);
      expect((await list())[0]).toMatchObject({ ...of("e1", "chk-a"), publishedAt: at(3) });
      expect((await list({ limit: 2 })).map((e) => e.id)).toEqual(["e1", "e3"]);
      expect((await list({ afterId: "e3" })).map((e) => e.id)).toEqual(["e0"]);
      const other = await h.store.transaction((tx) =>
        tx.outbox.listByAggregate({ aggregateType: "refund", aggregateId: "chk-a" }),
      );
      expect(other).toEqual([]);
    });
  });
}
