// A worker process ticking the nightly task on a shared SQLite file (see daily-tasks-workers.test.ts):
// the clock stands at `now`; prints the slots it ran as JSON.
import { dailyTaskRunner, manualClock } from "@settlekit/core";
import { knexStore } from "@settlekit/store-knex";
import knexFactory from "knex";

const [filename, workerId, now, ticks, taskJson] = process.argv.slice(2);
const knex = knexFactory({ client: "better-sqlite3", connection: { filename }, useNullAsDefault: true });
const runs = [];
try {
  const store = knexStore(knex);
  const task = JSON.parse(taskJson);
  const runner = dailyTaskRunner(
    { store, clock: manualClock(new Date(now)), logger: { warn: () => {}, error: () => {} } },
    {
      ...task,
      run: async (ctx) => {
        runs.push({
          day: ctx.day,
          key: ctx.key,
          workerId: ctx.workerId,
          period: ctx.period,
          at: performance.timeOrigin + performance.now(),
        });
        await new Promise((resolve) => setTimeout(resolve, 15));
      },
    },
    { workerId },
  );
  for (let i = 0; i < Number(ticks); i++) await runner.tick();
} finally {
  await knex.destroy();
}
process.stdout.write(JSON.stringify(runs));
