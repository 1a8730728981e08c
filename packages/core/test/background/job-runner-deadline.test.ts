import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { enqueueJob, runJobsOnce } from "../../src/jobs/job-runner.js";
import { memoryStore } from "../../src/testing/memory/memory-store.js";

describe("the job runner's shutdown deadline", () => {
  it("leaves no listener on the deadline signal after each job (a worker's signal lives for the whole process)", async () => {
    const store = memoryStore();
    await store.transaction(async (tx) => {
      for (let i = 0; i < 30; i++)
        await enqueueJob(tx, { type: "noop", payload: { i }, dedupeKey: `noop:${i}` });
    });
    const deadline = new AbortController();
    let ran = 0;
    for (let pass = 0; pass < 15; pass++) {
      const result = await runJobsOnce(store, {
        workerId: "w1",
        limit: 2,
        handlers: { noop: async () => void ran++ },
        deadline: deadline.signal,
      });
      expect(result.succeeded).toBe(2);
      expect(getEventListeners(deadline.signal, "abort")).toHaveLength(0);
    }
    expect(ran).toBe(30);
  });

  it("still cuts a job that outlives the deadline, and gives it back", async () => {
    const store = memoryStore();
    await store.transaction((tx) => enqueueJob(tx, { type: "slow", payload: {}, dedupeKey: "slow" }));
    const deadline = new AbortController();
    const pass = runJobsOnce(store, {
      workerId: "w1",
      handlers: { slow: () => new Promise<void>(() => undefined) },
      deadline: deadline.signal,
    });
    setTimeout(() => deadline.abort(), 20);
    expect(await pass).toMatchObject({ claimed: 1, released: 1, abandoned: 1, succeeded: 0 });
    expect(getEventListeners(deadline.signal, "abort")).toHaveLength(0);
  });
});
