import type { DailyTaskRepository, DailyTaskRun, DailyTaskSlot } from "../../ports/daily-tasks.js";
import type { Row, Sequences, Working } from "./state.js";
import { clone, compare, key } from "./state.js";

const time = (d: Date) => new Date(d.getTime());
const slotKey = (s: DailyTaskSlot) => key(s.task, s.key, s.day);

export function memoryDailyTasks(w: Working, seq: Sequences): DailyTaskRepository {
  const put = (row: Row<DailyTaskRun>, patch: Partial<DailyTaskRun>): DailyTaskRun => {
    const value = { ...row.value, ...patch };
    w.write("dailyTaskRuns").set(slotKey(value), { value, seq: row.seq });
    return value;
  };
  /** The slot, when `workerId` holds it `running`. */
  const held = (slot: DailyTaskSlot, workerId: string): Row<DailyTaskRun> | undefined => {
    const row = w.read("dailyTaskRuns").get(slotKey(slot));
    return row?.value.status === "running" && row.value.workerId === workerId ? row : undefined;
  };
  return {
    async claim({ task, key: k, day, workerId, now, leaseUntil }) {
      const slot = { task, key: k, day };
      const row = w.read("dailyTaskRuns").get(slotKey(slot));
      if (!row) {
        const value: DailyTaskRun = {
          ...slot,
          status: "running",
          attempts: 1,
          workerId,
          leaseUntil: time(leaseUntil),
          retryAt: null,
          lastError: null,
          startedAt: time(now),
          finishedAt: null,
          createdAt: time(now),
          updatedAt: time(now),
        };
        w.write("dailyTaskRuns").set(slotKey(slot), { value, seq: seq.next() });
        return { claimed: true, run: clone(value) };
      }
      const r = row.value;
      const takeOver =
        (r.status === "running" && r.leaseUntil !== null && r.leaseUntil <= now) ||
        (r.status === "failed" && r.retryAt !== null && r.retryAt <= now);
      if (!takeOver) return { claimed: false, run: clone(r) };
      const value = put(row, {
        status: "running",
        attempts: r.attempts + 1,
        workerId,
        leaseUntil: time(leaseUntil),
        retryAt: null,
        startedAt: time(now),
        updatedAt: time(now),
      });
      return { claimed: true, run: clone(value) };
    },
    async renew({ workerId, now, leaseUntil, ...slot }) {
      const row = held(slot, workerId);
      if (!row) return false;
      put(row, { leaseUntil: time(leaseUntil), updatedAt: time(now) });
      return true;
    },
    async complete({ workerId, now, ...slot }) {
      const row = held(slot, workerId);
      if (!row) return false;
      put(row, { status: "succeeded", leaseUntil: null, finishedAt: time(now), updatedAt: time(now) });
      return true;
    },
    async fail({ workerId, now, error, retryAt, ...slot }) {
      const row = held(slot, workerId);
      if (!row) return false;
      put(row, {
        status: retryAt === null ? "dead" : "failed",
        leaseUntil: null,
        retryAt: retryAt === null ? null : time(retryAt),
        lastError: error,
        finishedAt: retryAt === null ? time(now) : null,
        updatedAt: time(now),
      });
      return true;
    },
    async get(slot) {
      const row = w.read("dailyTaskRuns").get(slotKey(slot));
      return row ? clone(row.value) : null;
    },
    async list({ task, key: k, fromDay, toDay, limit = 100 }) {
      return [...w.read("dailyTaskRuns").values()]
        .map((row) => row.value)
        .filter(
          (r) =>
            r.task === task &&
            (k === undefined || r.key === k) &&
            (fromDay === undefined || r.day >= fromDay) &&
            (toDay === undefined || r.day <= toDay),
        )
        .sort((a, b) => compare(a.day, b.day) || compare(a.key, b.key))
        .slice(0, limit)
        .map(clone);
    },
    async latestDay({ task, key: k }) {
      let latest: string | null = null;
      for (const { value } of w.read("dailyTaskRuns").values())
        if (value.task === task && value.key === k && (latest === null || value.day > latest))
          latest = value.day;
      return latest;
    },
  };
}
