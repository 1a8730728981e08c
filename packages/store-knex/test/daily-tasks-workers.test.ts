import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { DailyTaskContext } from "@settlekit/core";
import { dailyTaskRunner, manualClock } from "@settlekit/core";
import knexFactory from "knex";
import { afterEach, describe, expect, it } from "vitest";
import { knexStore } from "../src/index.js";
import { openTestDatabase, testPostgresUrl } from "../src/testing.js";

const workerScript = fileURLToPath(new URL("./support/daily-task-worker.mjs", import.meta.url));
const run = promisify(execFile);

const quiet = { warn: () => undefined, error: () => undefined };
const HOUR = 3_600_000;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Ran = Pick<DailyTaskContext, "day" | "key" | "workerId" | "period">;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

for (const kind of ["postgres", "sqlite-file"] as const) {
  describe(`nightly daily tasks across two workers (${kind})`, () => {
    /**
     * Two workers with their own connections on one database, on a simulated clock: on Postgres two
     * pools in this process; on a SQLite file two processes per tick (better-sqlite3 waits for the
     * file's write lock synchronously, so two connections in one process would block each other).
     */
    async function twoWorkers(start: string) {
      const db = await openTestDatabase(kind);
      closers.push(() => db.close());
      const main = knexStore(db.knex);
      await main.migrate();
      const clock = manualClock(new Date(start));
      const runs: Ran[] = [];
      const task = {
        name: "reconciliation",
        schedule: { cron: "30 2 * * *", timeZone: "Europe/Berlin", catchUpDays: 5 },
        keys: ["sandbox", "stripe"],
      };
      let tickBoth: (times?: number) => Promise<void>;
      if (db.dialect === "postgres") {
        const other = knexFactory({
          client: "pg",
          connection: testPostgresUrl(),
          searchPath: [db.location],
          pool: { min: 0, max: 4 },
        });
        closers.push(() => other.destroy());
        const workers = [main, knexStore(other)].map((store, i) =>
          dailyTaskRunner(
            { store, clock, logger: quiet },
            {
              ...task,
              // Slow enough that both workers are inside a tick at the same time.
              run: async (ctx) => {
                runs.push({ day: ctx.day, key: ctx.key, workerId: ctx.workerId, period: ctx.period });
                await pause(15);
              },
            },
            { workerId: `w${i + 1}` },
          ),
        );
        tickBoth = async (times = 1) => {
          for (let i = 0; i < times; i++) await Promise.all(workers.map((w) => w.tick()));
        };
      } else {
        tickBoth = async (times = 1) => {
          const now = clock.now().toISOString();
          const outputs = await Promise.all(
            ["w1", "w2"].map((id) =>
              run(process.execPath, [
                workerScript,
                db.location,
                id,
                now,
                String(times),
                JSON.stringify(task),
              ]),
            ),
          );
          // The runs of both processes in the (wall clock) order they started.
          const ran = outputs.flatMap(({ stdout }) => JSON.parse(stdout) as (Ran & { at: number })[]);
          ran.sort((a, b) => a.at - b.at);
          for (const r of ran)
            runs.push({
              day: r.day,
              key: r.key,
              workerId: r.workerId,
              period: { from: new Date(r.period.from), to: new Date(r.period.to) },
            });
        };
      }
      const runsOf = (from = 0) => runs.slice(from).map((r) => `${r.day} ${r.key}`);
      return { stores: [main] as const, clock, runs, tickBoth, runsOf };
    }

    it("runs each PSP once per calendar day whichever worker ticks", async () => {
      // 02:30 in Berlin is 01:30 UTC in winter.
      const { clock, tickBoth, runsOf, runs, stores } = await twoWorkers("2026-12-01T01:30:05Z");
      await tickBoth(3);
      expect(runsOf()).toEqual(["2026-12-01 sandbox", "2026-12-01 stripe"]);
      // Twice a day for two days.
      for (let i = 0; i < 4; i++) {
        clock.advance(12 * HOUR);
        await tickBoth();
      }
      expect(runsOf()).toEqual([
        "2026-12-01 sandbox",
        "2026-12-01 stripe",
        "2026-12-02 sandbox",
        "2026-12-02 stripe",
        "2026-12-03 sandbox",
        "2026-12-03 stripe",
      ]);
      expect(new Set(runs.map((r) => r.workerId)).size).toBeGreaterThanOrEqual(1);
      expect(runs.find((r) => r.day === "2026-12-02")!.period).toEqual({
        from: new Date("2026-11-30T23:00:00Z"),
        to: new Date("2026-12-01T23:00:00Z"),
      });
      const slots = await stores[0].transaction((tx) => tx.dailyTasks.list({ task: "reconciliation" }));
      expect(slots.map((s) => `${s.day} ${s.key} ${s.status} ${s.attempts}`)).toEqual([
        "2026-12-01 sandbox succeeded 1",
        "2026-12-01 stripe succeeded 1",
        "2026-12-02 sandbox succeeded 1",
        "2026-12-02 stripe succeeded 1",
        "2026-12-03 sandbox succeeded 1",
        "2026-12-03 stripe succeeded 1",
      ]);
    });

    it("after three days of downtime both workers together catch up the three days once each, in order", async () => {
      const { clock, tickBoth, runsOf } = await twoWorkers("2026-12-01T02:00:00Z");
      await tickBoth();
      expect(runsOf()).toEqual(["2026-12-01 sandbox", "2026-12-01 stripe"]);
      // Nobody ran from then until after the occurrence of the fourth day.
      clock.set(new Date("2026-12-04T01:45:00Z"));
      await tickBoth(3);
      const caughtUp = runsOf(2);
      expect(caughtUp.filter((r) => r.endsWith("sandbox"))).toEqual([
        "2026-12-02 sandbox",
        "2026-12-03 sandbox",
        "2026-12-04 sandbox",
      ]);
      expect(caughtUp.filter((r) => r.endsWith("stripe"))).toEqual([
        "2026-12-02 stripe",
        "2026-12-03 stripe",
        "2026-12-04 stripe",
      ]);
      expect(caughtUp).toHaveLength(6);
    });
  });
}
