import type { Job, JobAttempt, JobRepository } from "../../ports/jobs.js";
import type { OutboxEvent, OutboxRepository } from "../../ports/outbox.js";
import type { OutboxRow, Row, Sequences, Working } from "./state.js";
import { clone, compare, json, violation } from "./state.js";

const time = (d: Date) => new Date(d.getTime());

export function memoryJobs(w: Working, seq: Sequences): JobRepository {
  /** The running job leased to `workerId`. */
  const leased = (id: string, workerId: string): Row<Job> | undefined => {
    const row = w.read("jobs").get(id);
    return row && row.value.status === "running" && row.value.lockedBy === workerId ? row : undefined;
  };
  const put = (row: Row<Job>, patch: Partial<Job>) =>
    w.write("jobs").set(row.value.id, { value: { ...row.value, ...patch }, seq: row.seq });
  const finish = (row: Row<Job>, now: Date, outcome: JobAttempt["outcome"], error?: string): JobAttempt => ({
    attempt: row.value.attempts,
    at: now.toISOString(),
    workerId: row.value.lockedBy ?? "",
    outcome,
    ...(error === undefined ? {} : { error }),
  });

  return {
    async enqueue(job, now) {
      if (job.dedupeKey !== undefined) {
        for (const row of w.read("jobs").values())
          if (row.value.dedupeKey === job.dedupeKey) return { job: clone(row.value), created: false };
      }
      if (w.read("jobs").has(job.id)) throw violation("jobs(id)", `job ${job.id} exists`);
      const value: Job = {
        id: job.id,
        type: job.type,
        payload: json(job.payload),
        status: "queued",
        attempts: 0,
        maxAttempts: job.maxAttempts ?? 8,
        runAt: time(job.runAt ?? now),
        lockedBy: null,
        lockedUntil: null,
        lastError: null,
        history: [],
        dedupeKey: job.dedupeKey ?? null,
        createdAt: time(now),
        updatedAt: time(now),
      };
      w.write("jobs").set(job.id, { value, seq: seq.next() });
      return { job: clone(value), created: true };
    },
    async claim({ workerId, limit, now, leaseUntil, types }) {
      const due = [...w.read("jobs").values()]
        .filter(
          ({ value: j }) =>
            (types === undefined || types.includes(j.type)) &&
            ((j.status === "queued" && j.runAt <= now) ||
              (j.status === "running" && j.lockedUntil !== null && j.lockedUntil <= now)),
        )
        .sort((a, b) => compare(a.value.runAt, b.value.runAt) || a.seq - b.seq)
        .slice(0, limit);
      return due.map((row) => {
        const value: Job = {
          ...row.value,
          status: "running",
          attempts: row.value.attempts + 1,
          lockedBy: workerId,
          lockedUntil: time(leaseUntil),
          updatedAt: time(now),
        };
        w.write("jobs").set(value.id, { value, seq: row.seq });
        return clone(value);
      });
    },
    async renew({ id, workerId, now, leaseUntil }) {
      const row = leased(id, workerId);
      if (!row) return false;
      put(row, { lockedUntil: time(leaseUntil), updatedAt: time(now) });
      return true;
    },
    async release({ id, workerId, now }) {
      const row = leased(id, workerId);
      if (!row) return false;
      put(row, {
        status: "queued",
        attempts: Math.max(0, row.value.attempts - 1),
        lockedBy: null,
        lockedUntil: null,
        updatedAt: time(now),
      });
      return true;
    },
    async complete({ id, workerId, now }) {
      const row = leased(id, workerId);
      if (!row) return false;
      put(row, {
        status: "succeeded",
        lockedBy: null,
        lockedUntil: null,
        history: [...row.value.history, finish(row, now, "succeeded")],
        updatedAt: time(now),
      });
      return true;
    },
    async fail({ id, workerId, now, error, retryAt }) {
      const row = leased(id, workerId);
      if (!row) return false;
      put(row, {
        status: retryAt ? "queued" : "dead",
        runAt: retryAt ? time(retryAt) : row.value.runAt,
        lockedBy: null,
        lockedUntil: null,
        lastError: error,
        history: [...row.value.history, finish(row, now, retryAt ? "failed" : "dead", error)],
        updatedAt: time(now),
      });
      return true;
    },
    async listDead({ limit = 100, type } = {}) {
      return [...w.read("jobs").values()]
        .filter(
          (r) => r.value.status === "dead" && (type === undefined || type === "" || r.value.type === type),
        )
        .sort((a, b) => a.seq - b.seq)
        .slice(0, limit)
        .map((r) => clone(r.value));
    },
    async replay({ id, now }) {
      const row = w.read("jobs").get(id);
      if (row?.value.status !== "dead") return false;
      put(row, { status: "queued", attempts: 0, runAt: time(now), updatedAt: time(now) });
      return true;
    },
    async get(id) {
      const row = w.read("jobs").get(id);
      return row ? clone(row.value) : null;
    },
  };
}

export function memoryOutbox(w: Working, seq: Sequences): OutboxRepository {
  const bySeq = (a: OutboxRow, b: OutboxRow) => a.seq - b.seq;
  /** Unpublished events of `ids` leased to `workerId`, changed by `patch`; how many. */
  const leasedUpdate = (ids: readonly string[], workerId: string, patch: (row: OutboxRow) => OutboxRow) => {
    let changed = 0;
    for (const id of new Set(ids)) {
      const row = w.read("outbox").get(id);
      if (!row || row.lockedBy !== workerId || row.value.publishedAt !== null) continue;
      w.write("outbox").set(id, patch(row));
      changed++;
    }
    return changed;
  };
  return {
    async append(events, now) {
      for (const e of events) {
        if (w.read("outbox").has(e.id)) throw violation("outbox(id)", `event ${e.id} exists`);
        const value: OutboxEvent = {
          id: e.id,
          type: e.type,
          aggregateType: e.aggregateType,
          aggregateId: e.aggregateId,
          payload: json(e.payload),
          createdAt: time(now),
          availableAt: time(now),
          publishedAt: null,
          attempts: 0,
          lastError: null,
        };
        w.write("outbox").set(e.id, { value, seq: seq.next(), lockedBy: null, lockedUntil: null });
      }
    },
    async claim({ workerId, limit, now, leaseUntil }) {
      const claimable = (r: OutboxRow) =>
        r.value.availableAt <= now && (r.lockedUntil === null || r.lockedUntil <= now);
      // By aggregate: once an aggregate has an unpublished event that cannot be claimed now (leased
      // or backing off), none of its later events is claimed.
      const blocked = new Set<string>();
      const free: OutboxRow[] = [];
      const pending = [...w.read("outbox").values()].filter((r) => r.value.publishedAt === null).sort(bySeq);
      for (const r of pending) {
        if (free.length >= limit) break;
        const aggregate = `${r.value.aggregateType}\u0000${r.value.aggregateId}`;
        if (blocked.has(aggregate)) continue;
        if (claimable(r)) free.push(r);
        else blocked.add(aggregate);
      }
      for (const row of free)
        w.write("outbox").set(row.value.id, { ...row, lockedBy: workerId, lockedUntil: time(leaseUntil) });
      return free.map((r) => clone(r.value));
    },
    async markPublished({ ids, workerId, now }) {
      return leasedUpdate(ids, workerId, (row) => ({
        ...row,
        value: { ...row.value, publishedAt: time(now) },
        lockedBy: null,
        lockedUntil: null,
      }));
    },
    async release({ ids, workerId, availableAt, error }) {
      return leasedUpdate(ids, workerId, (row) => ({
        ...row,
        value: {
          ...row.value,
          availableAt: time(availableAt),
          lastError: error,
          attempts: row.value.attempts + 1,
        },
        lockedBy: null,
        lockedUntil: null,
      }));
    },
    async get(id) {
      const row = w.read("outbox").get(id);
      return row ? clone(row.value) : null;
    },
    async listPending({ limit = 100 } = {}) {
      return [...w.read("outbox").values()]
        .filter((r) => r.value.publishedAt === null)
        .sort(bySeq)
        .slice(0, limit)
        .map((r) => clone(r.value));
    },
    async listByAggregate({ aggregateType, aggregateId, limit = 100, afterId }) {
      let from = -Infinity;
      if (afterId !== undefined) {
        const anchor = w.read("outbox").get(afterId);
        if (!anchor) return [];
        from = anchor.seq;
      }
      return [...w.read("outbox").values()]
        .filter(
          (r) =>
            r.seq > from && r.value.aggregateType === aggregateType && r.value.aggregateId === aggregateId,
        )
        .sort(bySeq)
        .slice(0, limit)
        .map((r) => clone(r.value));
    },
  };
}
