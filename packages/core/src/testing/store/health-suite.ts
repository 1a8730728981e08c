import { describe, expect, it } from "vitest";
import type { StoreHarness } from "./harness.js";

/** `store.health()`: reachable and writable while the store works, bounded, JSON-ready, never throwing. */
export function healthSuite(current: () => StoreHarness): void {
  describe("health", () => {
    it("a working store reports itself reachable and writable, with a latency and a replication report or null", async () => {
      const { store } = current();
      expect(store.health, "settlekit's adapters implement health()").toBeTypeOf("function");
      const health = await store.health!();
      expect(health).toMatchObject({ reachable: true, writable: true });
      expect(health.reason).toBeUndefined();
      expect(health.latencyMs).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(health.latencyMs)).toBe(true);
      if (health.replication !== null) {
        expect(health.replication.standbys).toBeGreaterThanOrEqual(health.replication.synchronous);
        for (const lag of [health.replication.lagMs, health.replication.lagBytes]) {
          expect(lag === null || (Number.isFinite(lag) && lag >= 0), String(lag)).toBe(true);
        }
      }
      // A probe's answer goes out as JSON: no bigint, no class instance.
      expect(JSON.parse(JSON.stringify(health))).toEqual(health);
    });

    it("health is answered while writers are busy, and writes still commit after it", async () => {
      const { store, inspect } = current();
      const writes = Array.from({ length: 8 }, (_, i) =>
        store.transaction((tx) =>
          tx.outbox.append(
            [{ id: `evt_health_${i}`, type: "t", aggregateType: "a", aggregateId: `a${i}`, payload: {} }],
            new Date(0),
          ),
        ),
      );
      const checks = await Promise.all([store.health!(), store.health!()]);
      await Promise.all(writes);
      expect(checks[0]).toMatchObject({ reachable: true, writable: true });
      expect(checks[1]).toMatchObject({ reachable: true, writable: true });
      expect(await inspect.count("outbox")).toBe(8);
    });
  });
}
