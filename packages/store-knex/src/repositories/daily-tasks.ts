import type { DailyTaskRepository, DailyTaskRun, DailyTaskRunStatus } from "@settlekit/core";
import type { Knex } from "knex";
import type { SqlAdapter } from "../dialect.js";
import { TABLES } from "../tables.js";
import { readDate, readDateOrNull } from "../values.js";

type Row = Record<string, unknown>;

const toRun = (row: Row): DailyTaskRun => ({
  task: String(row.task),
  key: String(row.task_key),
  day: String(row.day),
  status: row.status as DailyTaskRunStatus,
  attempts: Number(row.attempts),
  workerId: String(row.worker_id),
  leaseUntil: readDateOrNull(row.lease_until),
  retryAt: readDateOrNull(row.retry_at),
  lastError: (row.last_error as string | null) ?? null,
  startedAt: readDate(row.started_at),
  finishedAt: readDateOrNull(row.finished_at),
  createdAt: readDate(row.created_at),
  updatedAt: readDate(row.updated_at),
});

const T = TABLES.dailyTaskRuns;
const SLOT = "task = ? AND task_key = ? AND day = ?";
// The primary key makes the insert the race's referee: of concurrent first claims one inserts.
const INSERT = `INSERT INTO ${T} (task, task_key, day, status, attempts, worker_id, lease_until, started_at, created_at, updated_at)
VALUES (?, ?, ?, 'running', 1, ?, ?, ?, ?, ?) ON CONFLICT (task, task_key, day) DO NOTHING RETURNING *`;
// Re-checked under the row lock (Postgres re-evaluates the WHERE on the latest row version).
const TAKE_OVER = `UPDATE ${T} SET status = 'running', attempts = attempts + 1, worker_id = ?, lease_until = ?, retry_at = NULL, started_at = ?, updated_at = ?
WHERE ${SLOT} AND ((status = 'running' AND lease_until <= ?) OR (status = 'failed' AND retry_at <= ?)) RETURNING *`;
const GET = `SELECT * FROM ${T} WHERE ${SLOT}`;
const RENEW = `UPDATE ${T} SET lease_until = ?, updated_at = ? WHERE ${SLOT} AND status = 'running' AND worker_id = ?`;
const COMPLETE = `UPDATE ${T} SET status = 'succeeded', lease_until = NULL, finished_at = ?, updated_at = ? WHERE ${SLOT} AND status = 'running' AND worker_id = ?`;
const FAIL = `UPDATE ${T} SET status = ?, lease_until = NULL, retry_at = ?, last_error = ?, finished_at = ?, updated_at = ? WHERE ${SLOT} AND status = 'running' AND worker_id = ?`;
const LATEST = `SELECT MAX(day) AS day FROM ${T} WHERE task = ? AND task_key = ?`;

export function knexDailyTasks(db: Knex | Knex.Transaction, sql: SqlAdapter): DailyTaskRepository {
  const exec = sql.exec(db);
  return {
    async claim({ task, key, day, workerId, now, leaseUntil }) {
      const t = sql.time(now);
      const [inserted] = await exec.all(INSERT, [task, key, day, workerId, sql.time(leaseUntil), t, t, t]);
      if (inserted) return { claimed: true, run: toRun(inserted) };
      const [taken] = await exec.all(TAKE_OVER, [workerId, sql.time(leaseUntil), t, t, task, key, day, t, t]);
      if (taken) return { claimed: true, run: toRun(taken) };
      const [existing] = await exec.all(GET, [task, key, day]);
      if (!existing) throw new Error(`daily task slot ${task}/${key}/${day} vanished while claimed`);
      return { claimed: false, run: toRun(existing) };
    },
    async renew({ task, key, day, workerId, now, leaseUntil }) {
      return (await exec.run(RENEW, [sql.time(leaseUntil), sql.time(now), task, key, day, workerId])) === 1;
    },
    async complete({ task, key, day, workerId, now }) {
      const t = sql.time(now);
      return (await exec.run(COMPLETE, [t, t, task, key, day, workerId])) === 1;
    },
    async fail({ task, key, day, workerId, now, error, retryAt }) {
      const t = sql.time(now);
      const params = [
        retryAt === null ? "dead" : "failed",
        retryAt === null ? null : sql.time(retryAt),
        error,
        retryAt === null ? t : null,
        t,
        task,
        key,
        day,
        workerId,
      ];
      return (await exec.run(FAIL, params)) === 1;
    },
    async get({ task, key, day }) {
      const [row] = await exec.all(GET, [task, key, day]);
      return row ? toRun(row) : null;
    },
    async list({ task, key, fromDay, toDay, limit = 100 }) {
      const query = db(T).where({ task });
      if (key !== undefined) query.where({ task_key: key });
      if (fromDay !== undefined) query.where("day", ">=", fromDay);
      if (toDay !== undefined) query.where("day", "<=", toDay);
      const rows = await exec.rows(query.orderBy([{ column: "day" }, { column: "task_key" }]).limit(limit));
      return rows.map(toRun);
    },
    async latestDay({ task, key }) {
      const [row] = await exec.all(LATEST, [task, key]);
      return row?.day == null ? null : String(row.day);
    },
  };
}
