import { describe, expect, it } from "vitest";
import { at } from "./fixtures.js";
import type { StoreHarness } from "./harness.js";

const SLOT = { task: "reconciliation", key: "sandbox", day: "2026-12-01" } as const;

/** Daily task slots: one claim per task, key and day wins; leases, failures, takeovers. */
export function dailyTasksSuite(current: () => StoreHarness, concurrency: number): void {
  describe("daily task slots", () => {
    const claim = (h: StoreHarness, workerId: string, now: Date, slot: typeof SLOT | object = SLOT) =>
      h.store.transaction((tx) =>
        tx.dailyTasks.claim({
          ...SLOT,
          ...slot,
          workerId,
          now,
          leaseUntil: new Date(now.getTime() + 60_000),
        }),
      );

    it("creates a slot running for the first claimer; a second claim does not get it", async () => {
      const h = current();
      const first = await claim(h, "w1", at(0));
      expect(first).toMatchObject({
        claimed: true,
        run: {
          ...SLOT,
          status: "running",
          attempts: 1,
          workerId: "w1",
          leaseUntil: at(60_000),
          retryAt: null,
        },
      });
      const second = await claim(h, "w2", at(1_000));
      expect(second).toMatchObject({ claimed: false, run: { status: "running", workerId: "w1" } });
      expect(await h.inspect.count("daily_task_runs")).toBe(1);
    });

    it("of concurrent claims of one slot exactly one wins", async () => {
      const h = current();
      const results = await Promise.all(
        Array.from({ length: concurrency }, (_, i) => claim(h, `w${i}`, at(0))),
      );
      expect(results.filter((r) => r.claimed)).toHaveLength(1);
      expect(await h.inspect.count("daily_task_runs")).toBe(1);
    });

    it("slots differ by task, key and day", async () => {
      const h = current();
      expect((await claim(h, "w1", at(0))).claimed).toBe(true);
      expect((await claim(h, "w1", at(0), { key: "stripe" })).claimed).toBe(true);
      expect((await claim(h, "w1", at(0), { day: "2026-12-02" })).claimed).toBe(true);
      expect((await claim(h, "w1", at(0), { task: "other" })).claimed).toBe(true);
      expect(await h.inspect.count("daily_task_runs")).toBe(4);
    });

    it("a succeeded slot is never claimed again", async () => {
      const h = current();
      await claim(h, "w1", at(0));
      expect(
        await h.store.transaction((tx) => tx.dailyTasks.complete({ ...SLOT, workerId: "w1", now: at(5) })),
      ).toBe(true);
      const again = await claim(h, "w2", at(10_000_000));
      expect(again).toMatchObject({
        claimed: false,
        run: { status: "succeeded", finishedAt: at(5), leaseUntil: null },
      });
    });

    it("an expired lease is taken over with one more attempt; the old holder can no longer finish it", async () => {
      const h = current();
      await claim(h, "w1", at(0));
      expect((await claim(h, "w2", at(59_999))).claimed).toBe(false);
      const taken = await claim(h, "w2", at(60_000));
      expect(taken).toMatchObject({ claimed: true, run: { workerId: "w2", attempts: 2 } });
      const tx = <T>(fn: Parameters<typeof h.store.transaction<T>>[0]) => h.store.transaction(fn);
      expect(await tx((t) => t.dailyTasks.complete({ ...SLOT, workerId: "w1", now: at(60_001) }))).toBe(
        false,
      );
      expect(
        await tx((t) =>
          t.dailyTasks.fail({ ...SLOT, workerId: "w1", now: at(60_001), error: "x", retryAt: null }),
        ),
      ).toBe(false);
      expect(
        await tx((t) =>
          t.dailyTasks.renew({ ...SLOT, workerId: "w1", now: at(60_001), leaseUntil: at(120_000) }),
        ),
      ).toBe(false);
      expect(
        await tx((t) =>
          t.dailyTasks.renew({ ...SLOT, workerId: "w2", now: at(60_001), leaseUntil: at(500_000) }),
        ),
      ).toBe(true);
      expect((await claim(h, "w3", at(400_000))).claimed).toBe(false);
      expect(await tx((t) => t.dailyTasks.get(SLOT))).toMatchObject({
        leaseUntil: at(500_000),
        workerId: "w2",
      });
    });

    it("a failed slot waits for retryAt, then is claimed again; a dead one never", async () => {
      const h = current();
      await claim(h, "w1", at(0));
      await h.store.transaction((tx) =>
        tx.dailyTasks.fail({ ...SLOT, workerId: "w1", now: at(10), error: "psp down", retryAt: at(5_000) }),
      );
      expect(await h.store.transaction((tx) => tx.dailyTasks.get(SLOT))).toMatchObject({
        status: "failed",
        lastError: "psp down",
        retryAt: at(5_000),
        leaseUntil: null,
        finishedAt: null,
      });
      expect((await claim(h, "w2", at(4_999))).claimed).toBe(false);
      const retried = await claim(h, "w2", at(5_000));
      expect(retried).toMatchObject({ claimed: true, run: { attempts: 2, retryAt: null, workerId: "w2" } });
      await h.store.transaction((tx) =>
        tx.dailyTasks.fail({ ...SLOT, workerId: "w2", now: at(6_000), error: "gave up", retryAt: null }),
      );
      const dead = await claim(h, "w3", at(99_999_999));
      expect(dead).toMatchObject({
        claimed: false,
        run: { status: "dead", finishedAt: at(6_000), attempts: 2 },
      });
    });

    it("lists slots by day and key within a range, and names the latest day per key", async () => {
      const h = current();
      for (const [key, day] of [
        ["stripe", "2026-12-02"],
        ["sandbox", "2026-12-03"],
        ["sandbox", "2026-12-01"],
        ["stripe", "2026-12-01"],
      ] as const)
        await claim(h, "w1", at(0), { key, day });
      const list = await h.store.transaction((tx) =>
        tx.dailyTasks.list({ task: SLOT.task, fromDay: "2026-12-01", toDay: "2026-12-02" }),
      );
      expect(list.map((r) => `${r.day} ${r.key}`)).toEqual([
        "2026-12-01 sandbox",
        "2026-12-01 stripe",
        "2026-12-02 stripe",
      ]);
      const one = await h.store.transaction((tx) => tx.dailyTasks.list({ task: SLOT.task, key: "sandbox" }));
      expect(one.map((r) => r.day)).toEqual(["2026-12-01", "2026-12-03"]);
      expect(
        await h.store.transaction((tx) => tx.dailyTasks.latestDay({ task: SLOT.task, key: "sandbox" })),
      ).toBe("2026-12-03");
      expect(
        await h.store.transaction((tx) => tx.dailyTasks.latestDay({ task: SLOT.task, key: "square" })),
      ).toBe(null);
    });

    it("a claim rolled back with its transaction leaves no slot", async () => {
      const h = current();
      await expect(
        h.store.transaction(async (tx) => {
          await tx.dailyTasks.claim({ ...SLOT, workerId: "w1", now: at(0), leaseUntil: at(60_000) });
          throw new Error("rollback");
        }),
      ).rejects.toThrow("rollback");
      expect(await h.inspect.count("daily_task_runs")).toBe(0);
      expect((await claim(h, "w2", at(0))).claimed).toBe(true);
    });
  });
}
