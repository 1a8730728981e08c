import { describe, expect, it } from "vitest";
import type { JobInput } from "../../ports/jobs.js";
import { at, T0 } from "./fixtures.js";
import type { StoreHarness } from "./harness.js";

/** Durable jobs: claim leases, retries, dead letters, replay. */
export function jobsSuite(current: () => StoreHarness, concurrency: number): void {
  describe("jobs", () => {
    const enqueue = (h: StoreHarness, id: string, job: Partial<JobInput> = {}) =>
      h.store.transaction((tx) =>
        tx.jobs.enqueue({ id, type: "psp.register", payload: { id }, maxAttempts: 3, ...job }, T0),
      );
    const claim = (h: StoreHarness, workerId: string, now: Date, types?: string[], leaseMs = 60_000) =>
      h.store.transaction((tx) =>
        tx.jobs.claim({ workerId, limit: 10, now, leaseUntil: new Date(now.getTime() + leaseMs), types }),
      );

    it("enqueues a job and claims it when due, leased and with one attempt started", async () => {
      const h = current();
      const { job, created } = await enqueue(h, "j1", { runAt: at(1_000) });
      expect(created).toBe(true);
      expect(job).toMatchObject({
        id: "j1",
        status: "queued",
        attempts: 0,
        maxAttempts: 3,
        payload: { id: "j1" },
      });
      expect(await claim(h, "w1", at(999))).toHaveLength(0);
      const [claimed] = await claim(h, "w1", at(1_000));
      expect(claimed).toMatchObject({
        id: "j1",
        status: "running",
        attempts: 1,
        lockedBy: "w1",
        lockedUntil: at(61_000),
      });
    });

    it("claims only the requested types", async () => {
      const h = current();
      await enqueue(h, "j1", { type: "a" });
      await enqueue(h, "j2", { type: "b" });
      expect((await claim(h, "w1", at(1), ["b"])).map((j) => j.id)).toEqual(["j2"]);
    });

    it("returns the existing job for a repeated dedupe key", async () => {
      const h = current();
      await enqueue(h, "j1", { dedupeKey: "register:pay_1" });
      const again = await enqueue(h, "j2", { dedupeKey: "register:pay_1" });
      expect(again.created).toBe(false);
      expect(again.job.id).toBe("j1");
      expect(await h.inspect.count("jobs")).toBe(1);
    });

    it("never hands one job to two concurrent workers", async () => {
      const h = current();
      for (let i = 0; i < concurrency; i++) await enqueue(h, `j${String(i).padStart(3, "0")}`);
      const batches = await Promise.all(Array.from({ length: 8 }, (_, w) => claim(h, `w${w}`, at(1))));
      const ids = batches.flat().map((j) => j.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(Math.min(concurrency, 80));
    });

    it("completes a job only for the lease holder", async () => {
      const h = current();
      await enqueue(h, "j1");
      await claim(h, "w1", at(1));
      expect(
        await h.store.transaction((tx) => tx.jobs.complete({ id: "j1", workerId: "w2", now: at(2) })),
      ).toBe(false);
      expect(
        await h.store.transaction((tx) => tx.jobs.complete({ id: "j1", workerId: "w1", now: at(2) })),
      ).toBe(true);
      expect(await h.store.transaction((tx) => tx.jobs.get("j1"))).toMatchObject({
        status: "succeeded",
        lockedBy: null,
      });
      expect(await claim(h, "w3", at(10_000_000))).toHaveLength(0);
    });

    it("requeues a failed attempt for its retry time and keeps the history", async () => {
      const h = current();
      await enqueue(h, "j1");
      await claim(h, "w1", at(1));
      const failed = await h.store.transaction((tx) =>
        tx.jobs.fail({ id: "j1", workerId: "w1", now: at(2), error: "PSP 503", retryAt: at(2_000) }),
      );
      expect(failed).toBe(true);
      const job = await h.store.transaction((tx) => tx.jobs.get("j1"));
      expect(job).toMatchObject({
        status: "queued",
        attempts: 1,
        runAt: at(2_000),
        lastError: "PSP 503",
        lockedBy: null,
      });
      expect(job?.history).toEqual([
        { attempt: 1, at: at(2).toISOString(), workerId: "w1", outcome: "failed", error: "PSP 503" },
      ]);
      expect(await claim(h, "w2", at(1_999))).toHaveLength(0);
      expect((await claim(h, "w2", at(2_000)))[0]).toMatchObject({ id: "j1", attempts: 2 });
    });

    it("dead-letters a job, lists it, and replays it with a fresh budget", async () => {
      const h = current();
      await enqueue(h, "j1");
      await enqueue(h, "j2");
      await claim(h, "w1", at(1));
      await h.store.transaction((tx) =>
        tx.jobs.fail({ id: "j1", workerId: "w1", now: at(2), error: "gave up", retryAt: null }),
      );
      const dead = await h.store.transaction((tx) => tx.jobs.listDead());
      expect(dead.map((j) => j.id)).toEqual(["j1"]);
      expect(dead[0]).toMatchObject({ status: "dead", lastError: "gave up", lockedBy: null });
      expect(dead[0]?.history.at(-1)).toMatchObject({ outcome: "dead", error: "gave up" });
      expect(await claim(h, "w2", at(10_000_000))).not.toContainEqual(expect.objectContaining({ id: "j1" }));
      expect(await h.store.transaction((tx) => tx.jobs.replay({ id: "j2", now: at(3) }))).toBe(false);
      expect(await h.store.transaction((tx) => tx.jobs.replay({ id: "j1", now: at(3) }))).toBe(true);
      const replayed = await h.store.transaction((tx) => tx.jobs.get("j1"));
      expect(replayed).toMatchObject({ status: "queued", attempts: 0, runAt: at(3) });
      expect(replayed?.history).toHaveLength(1);
      expect(await h.store.transaction((tx) => tx.jobs.listDead())).toEqual([]);
    });

    it("renews a job's lease only for its holder, and a renewed lease is not taken over", async () => {
      const h = current();
      await enqueue(h, "j1");
      await claim(h, "w1", at(0), undefined, 1_000);
      const renew = (workerId: string, now: number, until: number) =>
        h.store.transaction((tx) =>
          tx.jobs.renew({ id: "j1", workerId, now: at(now), leaseUntil: at(until) }),
        );
      expect(await renew("w2", 500, 5_000)).toBe(false); // not the holder
      expect(await renew("w1", 500, 5_000)).toBe(true);
      expect(await claim(h, "w2", at(2_000))).toHaveLength(0); // past the first lease, inside the renewed one
      expect(await h.store.transaction((tx) => tx.jobs.get("j1"))).toMatchObject({
        lockedBy: "w1",
        lockedUntil: at(5_000),
      });
      const [taken] = await claim(h, "w2", at(5_000));
      expect(taken).toMatchObject({ id: "j1", lockedBy: "w2" });
      expect(await renew("w1", 5_001, 9_000)).toBe(false); // taken over: the old holder cannot renew
      await h.store.transaction((tx) => tx.jobs.complete({ id: "j1", workerId: "w2", now: at(5_002) }));
      expect(await renew("w2", 5_003, 9_000)).toBe(false); // finished jobs hold no lease
    });

    it("lets another worker take over a job whose worker died (lease expired)", async () => {
      const h = current();
      await enqueue(h, "j1");
      await claim(h, "w1", at(0), undefined, 1_000);
      expect(await claim(h, "w2", at(999))).toHaveLength(0);
      const [taken] = await claim(h, "w2", at(1_000));
      expect(taken).toMatchObject({ id: "j1", lockedBy: "w2", attempts: 2 });
      expect(
        await h.store.transaction((tx) =>
          tx.jobs.fail({ id: "j1", workerId: "w1", now: at(1_001), error: "late", retryAt: null }),
        ),
      ).toBe(false);
    });

    it("releases an unstarted claim back to the queue at once, giving its attempt back", async () => {
      const h = current();
      await enqueue(h, "j1", { runAt: at(10) });
      await enqueue(h, "j2", { runAt: at(20) });
      expect(await claim(h, "w1", at(100))).toHaveLength(2);
      const release = (id: string, workerId: string, now: number) =>
        h.store.transaction((tx) => tx.jobs.release({ id, workerId, now: at(now) }));
      expect(await release("j1", "w2", 200)).toBe(false); // not the holder
      expect(await release("j1", "w1", 200)).toBe(true);
      expect(await release("j1", "w1", 201)).toBe(false); // no longer held
      const released = await h.store.transaction((tx) => tx.jobs.get("j1"));
      expect(released).toMatchObject({
        status: "queued",
        attempts: 0,
        runAt: at(10),
        lockedBy: null,
        lockedUntil: null,
      });
      expect(released?.history).toEqual([]);
      // Well inside w1's lease, another worker gets the released job and not the held one.
      const taken = await claim(h, "w2", at(300));
      expect(taken.map((j) => [j.id, j.attempts, j.lockedBy])).toEqual([["j1", 1, "w2"]]);
      await h.store.transaction((tx) => tx.jobs.complete({ id: "j1", workerId: "w2", now: at(400) }));
      expect(await release("j1", "w2", 500)).toBe(false); // finished jobs hold no lease
    });
  });
}
