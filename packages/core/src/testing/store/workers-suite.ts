import { describe, expect, it } from "vitest";
import { enqueueJob, PermanentJobError, runJobsOnce } from "../../jobs/job-runner.js";
import { appendOutboxEvents, relayOutboxOnce } from "../../outbox/outbox.js";
import type { OutboxEvent } from "../../ports/outbox.js";
import { manualClock } from "../../runtime/clock.js";
import { T0 } from "./fixtures.js";
import type { StoreHarness } from "./harness.js";

/** The core job runner and outbox relay over the adapter: retries, backoff, dead letters, replay. */
export function workersSuite(current: () => StoreHarness): void {
  describe("job runner and outbox relay", () => {
    const noJitter = { baseMs: 1_000, maxMs: 60_000, jitter: 0 };

    it("retries a failing job with exponential backoff, then succeeds", async () => {
      const { store } = current();
      const clock = manualClock(T0);
      await store.transaction((tx) =>
        enqueueJob(tx, { type: "psp.register", payload: { paymentId: "c1" }, maxAttempts: 5 }, { clock }),
      );
      let calls = 0;
      const handlers = {
        "psp.register": async () => {
          calls++;
          if (calls <= 3) throw new Error("PSP answered 503");
        },
      };
      const run = () => runJobsOnce(store, { workerId: "w1", handlers, clock, backoff: noJitter });
      expect(await run()).toEqual({
        claimed: 1,
        succeeded: 0,
        retried: 1,
        dead: 0,
        lost: 0,
        released: 0,
        abandoned: 0,
      });
      expect(await run()).toEqual({
        claimed: 0,
        succeeded: 0,
        retried: 0,
        dead: 0,
        lost: 0,
        released: 0,
        abandoned: 0,
      });
      for (const wait of [1_000, 2_000, 4_000]) {
        clock.advance(wait - 1);
        expect((await run()).claimed).toBe(0);
        clock.advance(1);
        expect((await run()).claimed).toBe(1);
      }
      expect(calls).toBe(4);
      const [job] = await store.transaction((tx) =>
        tx.jobs.claim({ workerId: "x", limit: 1, now: new Date(8.64e15), leaseUntil: new Date(8.64e15) }),
      );
      expect(job).toBeUndefined();
    });

    it("dead-letters a job after maxAttempts with its history, and a replay runs it again", async () => {
      const { store } = current();
      const clock = manualClock(T0);
      const { job } = await store.transaction((tx) =>
        enqueueJob(tx, { type: "psp.register", payload: null, maxAttempts: 3 }, { clock }),
      );
      let healthy = false;
      const handlers = {
        "psp.register": async () => {
          if (!healthy) throw new Error("PSP answered 503");
        },
      };
      const outcomes = [];
      for (let i = 0; i < 3; i++) {
        outcomes.push(await runJobsOnce(store, { workerId: "w1", handlers, clock, backoff: noJitter }));
        clock.advance(60_000);
      }
      expect(outcomes.map((o) => [o.retried, o.dead])).toEqual([
        [1, 0],
        [1, 0],
        [0, 1],
      ]);
      const [dead] = await store.transaction((tx) => tx.jobs.listDead());
      expect(dead?.id).toBe(job.id);
      expect(dead?.history.map((h) => h.outcome)).toEqual(["failed", "failed", "dead"]);
      healthy = true;
      await store.transaction((tx) => tx.jobs.replay({ id: job.id, now: clock.now() }));
      expect(await runJobsOnce(store, { workerId: "w2", handlers, clock })).toMatchObject({ succeeded: 1 });
      expect(await store.transaction((tx) => tx.jobs.get(job.id))).toMatchObject({ status: "succeeded" });
    });

    it("dead-letters a permanent failure at once", async () => {
      const { store } = current();
      const clock = manualClock(T0);
      await store.transaction((tx) => enqueueJob(tx, { type: "t", payload: null }, { clock }));
      const handlers = {
        t: async () => {
          throw new PermanentJobError("card declined");
        },
      };
      expect(await runJobsOnce(store, { workerId: "w1", handlers, clock })).toMatchObject({ dead: 1 });
    });

    it("never runs a claimed job that another worker took over while earlier ones ran", async () => {
      const { store } = current();
      const clock = manualClock(T0);
      const j1 = await store.transaction((tx) => enqueueJob(tx, { type: "t", payload: 1 }, { clock }));
      const j2 = await store.transaction((tx) => enqueueJob(tx, { type: "t", payload: 2 }, { clock }));
      const runs: string[] = [];
      const other = { t: async (job: { payload: unknown }) => void runs.push(`w2:${String(job.payload)}`) };
      const slow = {
        t: async (job: { payload: unknown }) => {
          runs.push(`w1:${String(job.payload)}`);
          // So slow that both leases run out and another worker takes the two jobs over.
          clock.advance(1_001);
          expect(
            await runJobsOnce(store, { workerId: "w2", handlers: other, clock, leaseMs: 1_000 }),
          ).toMatchObject({
            claimed: 2,
            succeeded: 2,
          });
        },
      };
      const result = await runJobsOnce(store, {
        workerId: "w1",
        handlers: slow,
        clock,
        leaseMs: 1_000,
        limit: 2,
      });
      expect(result).toEqual({
        claimed: 2,
        succeeded: 0,
        retried: 0,
        dead: 0,
        lost: 2,
        released: 0,
        abandoned: 0,
      });
      expect(runs).toEqual(["w1:1", "w2:1", "w2:2"]); // job 2 ran once, by its new holder
      for (const { job } of [j1, j2]) {
        expect(await store.transaction((tx) => tx.jobs.get(job.id))).toMatchObject({ status: "succeeded" });
      }
    });

    it("on stop, finishes the running job and releases the claimed ones at once to another worker", async () => {
      const { store } = current();
      const clock = manualClock(T0);
      for (const n of [1, 2, 3])
        await store.transaction((tx) => enqueueJob(tx, { type: "t", payload: n }, { clock }));
      const stopping = new AbortController();
      const runs: string[] = [];
      const handlers = {
        t: async (job: { payload: unknown }) => {
          runs.push(`w1:${String(job.payload)}`);
          stopping.abort(); // SIGTERM while job 1 runs
        },
      };
      const result = await runJobsOnce(store, { workerId: "w1", handlers, clock, stopping: stopping.signal });
      expect(result).toEqual({
        claimed: 3,
        succeeded: 1,
        retried: 0,
        dead: 0,
        lost: 0,
        released: 2,
        abandoned: 0,
      });
      // Nothing more is claimed once stopping.
      expect(
        await runJobsOnce(store, { workerId: "w1", handlers, clock, stopping: stopping.signal }),
      ).toMatchObject({
        claimed: 0,
      });
      // Same instant, well inside w1's 5-minute lease: w2 gets both, each on its first attempt.
      const other = { t: async (job: { payload: unknown }) => void runs.push(`w2:${String(job.payload)}`) };
      expect(await runJobsOnce(store, { workerId: "w2", handlers: other, clock })).toMatchObject({
        claimed: 2,
        succeeded: 2,
      });
      expect(runs).toEqual(["w1:1", "w2:2", "w2:3"]);
      const [done] = await store.transaction((tx) =>
        tx.jobs.claim({ workerId: "x", limit: 1, now: new Date(8.64e15), leaseUntil: new Date(8.64e15) }),
      );
      expect(done).toBeUndefined();
    });

    it("at the deadline, gives the running job back unfinished as a failed attempt, due at once", async () => {
      const { store } = current();
      const clock = manualClock(T0);
      const { job } = await store.transaction((tx) =>
        enqueueJob(tx, { type: "t", payload: null }, { clock }),
      );
      const deadline = new AbortController();
      const handlers = {
        t: () =>
          new Promise<void>((_, reject) => {
            deadline.abort(); // the handler hangs past the shutdown's deadline…
            setTimeout(() => reject(new Error("late failure of an abandoned handler")), 5);
          }),
      };
      const result = await runJobsOnce(store, { workerId: "w1", handlers, clock, deadline: deadline.signal });
      expect(result).toEqual({
        claimed: 1,
        succeeded: 0,
        retried: 0,
        dead: 0,
        lost: 0,
        released: 1,
        abandoned: 1,
      });
      const given = await store.transaction((tx) => tx.jobs.get(job.id));
      expect(given).toMatchObject({ status: "queued", attempts: 1, runAt: clock.now(), lockedBy: null });
      expect(given?.history.map((h) => h.outcome)).toEqual(["failed"]);
      expect(given?.lastError).toMatch(/shut down before the job finished/);
      await new Promise((resolve) => setTimeout(resolve, 10)); // …and its late rejection stays handled
      const ok = { t: async () => undefined };
      expect(await runJobsOnce(store, { workerId: "w2", handlers: ok, clock })).toMatchObject({
        succeeded: 1,
      });
    });

    it("calls onDead only for a job whose lease it still held", async () => {
      const { store } = current();
      const clock = manualClock(T0);
      const { job } = await store.transaction((tx) =>
        enqueueJob(tx, { type: "t", payload: null }, { clock }),
      );
      const dead: string[] = [];
      const handlers = {
        t: async () => {
          clock.advance(1_001);
          const ok = { t: async () => undefined };
          await runJobsOnce(store, { workerId: "w2", handlers: ok, clock, leaseMs: 1_000 });
          throw new PermanentJobError("too late: the job was done by w2");
        },
      };
      const onDead = async (j: { id: string }) => void dead.push(j.id);
      const result = await runJobsOnce(store, { workerId: "w1", handlers, clock, leaseMs: 1_000, onDead });
      expect(result).toMatchObject({ dead: 0, lost: 1 });
      expect(dead).toEqual([]);
      expect(await store.transaction((tx) => tx.jobs.get(job.id))).toMatchObject({ status: "succeeded" });
    });

    it("relays outbox events at least once, retrying after a publisher failure", async () => {
      const { store } = current();
      const clock = manualClock(T0);
      const ids = await store.transaction((tx) =>
        appendOutboxEvents(
          tx,
          [
            { type: "payment.succeeded", aggregateType: "payment", aggregateId: "c1", payload: { n: 1 } },
            { type: "payment.succeeded", aggregateType: "payment", aggregateId: "c2", payload: { n: 2 } },
          ],
          { clock },
        ),
      );
      const received: OutboxEvent[] = [];
      let down = true;
      const publisher = {
        publish: async (events: readonly OutboxEvent[]) => {
          if (down) throw new Error("broker unavailable");
          received.push(...events);
        },
      };
      const relay = () => relayOutboxOnce(store, publisher, { workerId: "r1", clock, backoff: noJitter });
      expect(await relay()).toEqual({ published: 0, failed: 2 });
      down = false;
      expect(await relay()).toEqual({ published: 0, failed: 0 });
      clock.advance(1_000);
      expect(await relay()).toEqual({ published: 2, failed: 0 });
      expect(received.map((e) => e.id)).toEqual(ids);
      expect(await relay()).toEqual({ published: 0, failed: 0 });
    });

    // Found by the simulator (tests/simulation, seed 2): a publish that failed left its event
    // backing off while a later event of the same payment went out first.
    it("keeps each aggregate's events in order past a failed publish and a concurrent relay", async () => {
      const { store } = current();
      const clock = manualClock(T0);
      const append = (aggregateId: string, n: number) =>
        store.transaction((tx) =>
          appendOutboxEvents(
            tx,
            [{ type: `event.${n}`, aggregateType: "payment", aggregateId, payload: { n } }],
            { clock },
          ),
        );
      const received: string[] = [];
      let down = true;
      const publisher = {
        publish: async (events: readonly OutboxEvent[]) => {
          if (down) throw new Error("broker unavailable");
          received.push(...events.map((e) => e.type));
        },
      };
      const relay = (workerId = "r1") =>
        relayOutboxOnce(store, publisher, { workerId, clock, backoff: noJitter });
      await append("c1", 1);
      expect(await relay()).toEqual({ published: 0, failed: 1 }); // event.1 backs off for 1 s
      down = false;
      await append("c1", 2);
      await append("c2", 3);
      expect(await relay()).toEqual({ published: 1, failed: 0 }); // event.2 waits for event.1
      expect(received).toEqual(["event.3"]);
      clock.advance(1_000);
      expect(await relay()).toEqual({ published: 2, failed: 0 });
      expect(received).toEqual(["event.3", "event.1", "event.2"]);

      // Another relay holds event.4 (claimed, not yet published): event.5 of c1 waits for it.
      await append("c1", 4);
      const [other] = await store.transaction((tx) =>
        tx.outbox.claim({
          workerId: "r2",
          limit: 1,
          now: clock.now(),
          leaseUntil: new Date(T0.getTime() + 3_600_000),
        }),
      );
      expect(other?.type).toBe("event.4");
      await append("c1", 5);
      expect(await relay()).toEqual({ published: 0, failed: 0 });
      await store.transaction((tx) =>
        tx.outbox.markPublished({ ids: [other!.id], workerId: "r2", now: clock.now() }),
      );
      expect(await relay()).toEqual({ published: 1, failed: 0 });
      expect(received.at(-1)).toBe("event.5");
    });
  });
}
