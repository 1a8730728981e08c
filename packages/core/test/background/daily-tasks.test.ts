import { describe, expect, it } from "vitest";
import { dueDays, zonedSchedule } from "../../src/background/calendar.js";
import type { DailyTaskContext } from "../../src/background/daily-tasks.js";
import { dailyTaskRunner } from "../../src/background/daily-tasks.js";
import { createWorker } from "../../src/background/worker.js";
import { manualClock } from "../../src/runtime/clock.js";
import { memoryStore } from "../../src/testing/memory/memory-store.js";
import { makeWorld } from "../support/world.js";

const quiet = { warn: () => undefined, error: () => undefined };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("zoned schedules", () => {
  it("reads the cron expression and the calendar day in the time zone", () => {
    const berlin = zonedSchedule("30 2 * * *", "Europe/Berlin");
    // 02:30 in Berlin in winter is 01:30 UTC.
    expect(berlin.next(new Date("2026-12-02T00:00:00Z"))).toEqual(new Date("2026-12-02T01:30:00Z"));
    expect(berlin.day(new Date("2026-12-01T23:30:00Z"))).toBe("2026-12-02");
    expect(berlin.startOfDay(new Date("2026-12-02T12:00:00Z"))).toEqual(new Date("2026-12-01T23:00:00Z"));
    const tokyo = zonedSchedule("0 3 * * *", "Asia/Tokyo");
    expect(tokyo.day(new Date("2026-12-01T15:00:00Z"))).toBe("2026-12-02");
  });

  it("has 23- and 25-hour days across daylight saving changes", () => {
    const ny = zonedSchedule("0 1 * * *", "America/New_York");
    const days = dueDays(ny, new Date("2026-03-10T12:00:00Z"), 2);
    expect(days.map((d) => d.day)).toEqual(["2026-03-08", "2026-03-09", "2026-03-10"]);
    const spring = days[1]!;
    expect(spring.period.to.getTime() - spring.period.from.getTime()).toBe(23 * HOUR);
    const fall = dueDays(ny, new Date("2026-11-02T12:00:00Z"), 0)[0]!;
    expect(fall.period.to.getTime() - fall.period.from.getTime()).toBe(25 * HOUR);
  });

  it("a time the spring change skips still makes its day due, and the autumn change runs it once", () => {
    const berlin = zonedSchedule("30 2 * * *", "Europe/Berlin");
    // 2027-03-28: 02:00 → 03:00 in Berlin; croner runs the skipped 02:30 at 03:00.
    const spring = dueDays(berlin, new Date("2027-03-28T12:00:00Z"), 0);
    expect(spring).toEqual([
      expect.objectContaining({ day: "2027-03-28", scheduledAt: new Date("2027-03-28T01:00:00Z") }),
    ]);
    const autumn = dueDays(berlin, new Date("2026-10-26T12:00:00Z"), 1);
    expect(autumn.map((d) => [d.day, d.scheduledAt.toISOString()])).toEqual([
      ["2026-10-25", "2026-10-25T00:30:00.000Z"],
      ["2026-10-26", "2026-10-26T01:30:00.000Z"],
    ]);
  });

  it("lists the due days oldest first, today only once its occurrence passed", () => {
    const utc = zonedSchedule("0 2 * * *", "UTC");
    const before = dueDays(utc, new Date("2026-12-05T01:59:59Z"), 2);
    expect(before.map((d) => d.day)).toEqual(["2026-12-03", "2026-12-04"]);
    const after = dueDays(utc, new Date("2026-12-05T02:00:00Z"), 2);
    expect(after.map((d) => d.day)).toEqual(["2026-12-03", "2026-12-04", "2026-12-05"]);
    expect(after[2]).toEqual({
      day: "2026-12-05",
      scheduledAt: new Date("2026-12-05T02:00:00Z"),
      period: { from: new Date("2026-12-04T00:00:00Z"), to: new Date("2026-12-05T00:00:00Z") },
    });
    // Several occurrences a day count once.
    expect(dueDays(zonedSchedule("0 */6 * * *", "UTC"), new Date("2026-12-05T20:00:00Z"), 0)).toHaveLength(1);
  });

  it("refuses a bad cron expression or time zone, naming the field", () => {
    expect(() => zonedSchedule("not cron", "UTC")).toThrow(
      expect.objectContaining({ param: "schedule.cron" }),
    );
    expect(() => zonedSchedule("0 2 * * *", "Mars/Olympus")).toThrow(
      expect.objectContaining({ param: "schedule.timeZone" }),
    );
  });
});

describe("daily task runner", () => {
  const setup = (start: string, run: (ctx: DailyTaskContext) => Promise<unknown>, catchUpDays = 3) => {
    const store = memoryStore();
    const clock = manualClock(new Date(start));
    const task = {
      name: "nightly",
      schedule: { cron: "0 2 * * *", timeZone: "UTC", catchUpDays },
      keys: ["sandbox", "stripe"],
      run,
      maxAttempts: 3,
    };
    const deps = { store, clock, logger: quiet, backoff: { baseMs: 60_000, jitter: 0 } };
    return {
      store,
      clock,
      task,
      deps,
      runner: (id: string) => dailyTaskRunner(deps, task, { workerId: id }),
    };
  };

  it("runs each key once per day, at its time, however often it ticks", async () => {
    const runs: string[] = [];
    const { clock, runner } = setup(
      "2026-12-01T01:00:00Z",
      async (ctx) => void runs.push(`${ctx.day} ${ctx.key}`),
    );
    const w = runner("w1");
    // First time seen, before today's 02:00: the latest due day is yesterday's.
    expect((await w.tick()).map((o) => `${o.day} ${o.key}`)).toEqual([
      "2026-11-30 sandbox",
      "2026-11-30 stripe",
    ]);
    expect(await w.tick()).toEqual([]);
    clock.set(new Date("2026-12-01T02:00:00Z"));
    expect((await w.tick()).map((o) => o.status)).toEqual(["succeeded", "succeeded"]);
    clock.advance(HOUR);
    await w.tick();
    await runner("w2").tick(); // another worker: nothing left
    expect(runs).toEqual([
      "2026-11-30 sandbox",
      "2026-11-30 stripe",
      "2026-12-01 sandbox",
      "2026-12-01 stripe",
    ]);
  });

  it("starts a new task with its latest due day, then catches up missed days in order", async () => {
    const runs: DailyTaskContext[] = [];
    const { clock, runner } = setup("2026-12-01T03:00:00Z", async (ctx) => void runs.push(ctx));
    await runner("w1").tick();
    expect(runs.map((r) => r.day)).toEqual(["2026-12-01", "2026-12-01"]);
    // Down for three days; back after the fourth day's occurrence.
    clock.set(new Date("2026-12-04T02:30:00Z"));
    await runner("w2").tick();
    expect(runs.slice(2).map((r) => `${r.day} ${r.key}`)).toEqual([
      "2026-12-02 sandbox",
      "2026-12-02 stripe",
      "2026-12-03 sandbox",
      "2026-12-03 stripe",
      "2026-12-04 sandbox",
      "2026-12-04 stripe",
    ]);
    expect(runs[2]).toMatchObject({
      task: "nightly",
      period: { from: new Date("2026-12-01T00:00:00Z"), to: new Date("2026-12-02T00:00:00Z") },
      scheduledAt: new Date("2026-12-02T02:00:00Z"),
      attempt: 1,
      workerId: "w2",
    });
  });

  it("catches up at most catchUpDays back", async () => {
    const runs: string[] = [];
    const { clock, runner } = setup("2026-12-01T03:00:00Z", async (ctx) => void runs.push(ctx.day), 1);
    await runner("w1").tick();
    clock.set(new Date("2026-12-10T03:00:00Z"));
    await runner("w1").tick();
    expect([...new Set(runs)]).toEqual(["2026-12-01", "2026-12-09", "2026-12-10"]);
  });

  it("retries a failed day after backoff with the next attempt, and gives up after maxAttempts", async () => {
    const attempts: number[] = [];
    const { clock, runner, store } = setup("2026-12-01T02:00:00Z", async (ctx) => {
      if (ctx.key === "stripe") return;
      attempts.push(ctx.attempt);
      throw new Error("settlement file not there yet");
    });
    const w = runner("w1");
    expect((await w.tick()).map((o) => `${o.key} ${o.status}`)).toEqual([
      "sandbox failed",
      "stripe succeeded",
    ]);
    expect(await w.tick()).toEqual([]); // waits for the retry
    clock.advance(60_000);
    expect((await w.tick()).map((o) => o.status)).toEqual(["failed"]);
    clock.advance(120_000);
    expect((await w.tick()).map((o) => o.status)).toEqual(["dead"]);
    clock.advance(DAY / 2);
    expect(await w.tick()).toEqual([]);
    expect(attempts).toEqual([1, 2, 3]);
    const slot = await store.transaction((tx) =>
      tx.dailyTasks.get({ task: "nightly", key: "sandbox", day: "2026-12-01" }),
    );
    expect(slot).toMatchObject({
      status: "dead",
      attempts: 3,
      lastError: "Error: settlement file not there yet",
    });
  });

  it("takes over a day whose worker died once its lease lapsed", async () => {
    let calls = 0;
    const { clock, store, deps, task } = setup("2026-12-01T02:00:00Z", async () => void calls++);
    // A worker claimed the day and died without finishing.
    await store.transaction((tx) =>
      tx.dailyTasks.claim({
        task: "nightly",
        key: "sandbox",
        day: "2026-12-01",
        workerId: "dead-worker",
        now: clock.now(),
        leaseUntil: new Date(clock.now().getTime() + 60_000),
      }),
    );
    const w = dailyTaskRunner(deps, { ...task, keys: ["sandbox"] }, { workerId: "w2" });
    expect(await w.tick()).toEqual([]);
    clock.advance(60_000);
    expect(await w.tick()).toEqual([expect.objectContaining({ status: "succeeded", attempt: 2 })]);
    expect(calls).toBe(1);
  });
});

describe("the worker's nightly reconciliation hook", () => {
  it("runs the hook for each PSP through the worker, once per day", async () => {
    const world = makeWorld();
    const seen: string[] = [];
    world.clock.set(new Date("2026-12-01T02:00:00Z"));
    const worker = createWorker(world.system, {
      workerId: "w1",
      reconciliation: {
        schedule: { cron: "0 2 * * *", timeZone: "UTC" },
        providers: [world.psp.provider.id],
        run: async ({ provider, day, period }) =>
          void seen.push(`${provider} ${day} ${period.from.toISOString()}`),
      },
    });
    expect(await worker.runDailyTasks()).toHaveLength(1);
    expect(await worker.runDailyTasks()).toHaveLength(0);
    expect(seen).toEqual([`${world.psp.provider.id} 2026-12-01 2026-11-30T00:00:00.000Z`]);
    const slots = await world.store.transaction((tx) => tx.dailyTasks.list({ task: "reconciliation" }));
    expect(slots.map((s) => s.status)).toEqual(["succeeded"]);
  });

  it("without a run of its own, the hook reconciles the PSP's readSettlement through the engine", async () => {
    const base = makeWorld();
    const periods: string[] = [];
    const provider = {
      ...base.psp.provider,
      capabilities: { ...base.psp.provider.capabilities, settlementReports: true },
      readSettlement: (query: { from: Date; to: Date }) => {
        periods.push(`${query.from.toISOString()} ${query.to.toISOString()}`);
        return (async function* () {})();
      },
    };
    const world = makeWorld({ providers: [provider] });
    world.clock.set(new Date("2026-12-01T02:00:00Z"));
    const worker = createWorker(world.system, {
      workerId: "w1",
      reconciliation: { schedule: { cron: "0 2 * * *", timeZone: "UTC" } },
    });
    expect(await worker.runDailyTasks()).toEqual([expect.objectContaining({ status: "succeeded" })]);
    expect(periods).toEqual(["2026-11-30T00:00:00.000Z 2026-12-01T00:00:00.000Z"]);
    const runs = await world.system.listReconciliations();
    expect(runs.data).toEqual([
      expect.objectContaining({ pspId: provider.id, source: "psp", status: "completed", recordCount: 0 }),
    ]);
  });

  it("the worker loop runs the daily tasks beside its passes", async () => {
    const world = makeWorld();
    world.clock.set(new Date("2026-12-01T02:00:00Z"));
    let resolveRun: (() => void) | undefined;
    const ran = new Promise<void>((resolve) => {
      resolveRun = resolve;
    });
    const worker = createWorker(world.system, {
      idleMs: 5,
      dailyTasks: [
        {
          name: "t",
          schedule: { cron: "0 2 * * *", timeZone: "UTC" },
          keys: ["k"],
          run: async () => resolveRun?.(),
        },
      ],
    });
    worker.start();
    await ran;
    await worker.stop();
  });

  it("refuses an unknown PSP, a bad schedule and two tasks of one name when the worker is created", () => {
    const world = makeWorld();
    const run = async () => undefined;
    const schedule = { cron: "0 2 * * *", timeZone: "UTC" };
    expect(() =>
      createWorker(world.system, { reconciliation: { schedule, providers: ["nope"], run } }),
    ).toThrow(/not a configured payment provider/);
    expect(() =>
      createWorker(world.system, {
        reconciliation: { schedule: { ...schedule, timeZone: "Nowhere/X" }, run },
      }),
    ).toThrow(
      expect.objectContaining({
        code: "VALIDATION_FAILED",
        param: "dailyTasks.reconciliation.schedule.timeZone",
      }),
    );
    expect(() =>
      createWorker(world.system, { reconciliation: { schedule: { ...schedule, catchUpDays: -1 }, run } }),
    ).toThrow(/catchUpDays/);
    const task = { name: "t", schedule, keys: ["k"], run };
    expect(() => createWorker(world.system, { dailyTasks: [task, task] })).toThrow(/same name/);
  });
});
