import { ErrorCodes, SettlekitError } from "../errors.js";
import type { BackoffPolicy } from "../jobs/backoff.js";
import { backoffDelay } from "../jobs/backoff.js";
import type { Clock } from "../ports/clock.js";
import type { DailyTaskSlot } from "../ports/daily-tasks.js";
import type { Logger } from "../ports/logger.js";
import type { Store } from "../ports/store.js";
import type { ScheduledDay, ZonedSchedule } from "./calendar.js";
import { dueDays, zonedSchedule } from "./calendar.js";

/** When a daily task runs: a cron expression read in an IANA time zone. */
export interface DailySchedule {
  /** Five or six fields (croner syntax), e.g. `"30 2 * * *"`: 02:30 every day. */
  readonly cron: string;
  /** IANA zone the expression and the calendar days are read in, e.g. `"Europe/Berlin"`. */
  readonly timeZone: string;
  /**
   * How many past days a worker that was down catches up (default 3; 0: only today). Only days
   * after the latest one the task already has a slot for are caught up: a task seen for the first
   * time starts with its latest due day, not with a backlog.
   */
  readonly catchUpDays?: number;
}

/** What a daily task's `run` is told. */
export interface DailyTaskContext {
  readonly task: string;
  /** Which instance of the task (a PSP id for the nightly reconciliation). */
  readonly key: string;
  /** The slot's calendar day (`YYYY-MM-DD`, in the schedule's zone): the day the occurrence fell on. */
  readonly day: string;
  /** The calendar day before `day`, `[from, to)`: what a nightly job usually processes. */
  readonly period: { readonly from: Date; readonly to: Date };
  /** The occurrence that made the day due (earlier than now when catching up). */
  readonly scheduledAt: Date;
  /** 1 for the first attempt of this slot. */
  readonly attempt: number;
  readonly workerId: string;
}

/**
 * A task run once per key and calendar day across every worker (`dailyTaskRunner`). A failing
 * run is retried with the system's backoff up to `maxAttempts`, then its slot is `dead` (logged).
 */
export interface DailyTask {
  /** Unique per task, e.g. `reconciliation` (the slots' `task`). */
  readonly name: string;
  readonly schedule: DailySchedule;
  /** The keys to run for (read on every tick). */
  readonly keys: readonly string[] | (() => readonly string[]);
  run(context: DailyTaskContext): Promise<unknown>;
  /** Default 5. */
  readonly maxAttempts?: number;
  /** Lease of a running slot, renewed every third of it while `run` works (default 60 000 ms). */
  readonly leaseMs?: number;
}

/** One slot a tick tried: `lost` when another worker took it over while it ran. */
export interface DailyTaskOutcome extends DailyTaskSlot {
  readonly status: "succeeded" | "failed" | "dead" | "lost";
  readonly attempt: number;
  readonly error?: string;
}

export interface DailyTaskRunner {
  readonly task: string;
  /** Claims and runs every due slot this worker can get, oldest day first; resolves when they ran. */
  tick(): Promise<DailyTaskOutcome[]>;
}

export interface DailyTaskDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly backoff?: BackoffPolicy;
}

const describe = (error: unknown): string =>
  (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 2000);

const wholeNumber = (
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
  param: string,
) => {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < min || resolved > max)
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      `${param} must be a whole number in [${min}, ${max}].`,
      {
        param,
      },
    );
  return resolved;
};

/**
 * Runs `task` on its schedule, exactly once per key and calendar day however many workers tick:
 * each due `(task, key, day)` slot is claimed in one store transaction (`tx.dailyTasks.claim`),
 * run outside it under a renewed lease, and marked succeeded, failed (retried after backoff) or
 * dead. A worker that died mid-run loses its lease and another takes the slot over. Days missed
 * while no worker ran are caught up in order, at most `catchUpDays` back. Between occurrences a
 * tick costs nothing (it remembers when the next one is due).
 */
export function dailyTaskRunner(
  deps: DailyTaskDeps,
  task: DailyTask,
  options: { readonly workerId: string },
): DailyTaskRunner {
  const param = `dailyTasks.${task.name}`;
  const schedule: ZonedSchedule = zonedSchedule(
    task.schedule.cron,
    task.schedule.timeZone,
    `${param}.schedule`,
  );
  const catchUpDays = wholeNumber(task.schedule.catchUpDays, 3, 0, 366, `${param}.schedule.catchUpDays`);
  const maxAttempts = wholeNumber(task.maxAttempts, 5, 1, 1_000, `${param}.maxAttempts`);
  const leaseMs = wholeNumber(task.leaseMs, 60_000, 1_000, 86_400_000, `${param}.leaseMs`);
  const { store, clock, logger } = deps;
  const { workerId } = options;
  /** Per key: nothing to do before this instant (all due slots finished). */
  const idleUntil = new Map<string, number>();

  const heartbeat = (slot: DailyTaskSlot): (() => void) => {
    let busy = false;
    const timer = setInterval(
      () => {
        if (busy) return;
        busy = true;
        const now = clock.now();
        store
          .transaction((tx) =>
            tx.dailyTasks.renew({ ...slot, workerId, now, leaseUntil: new Date(now.getTime() + leaseMs) }),
          )
          .catch(() => false)
          .finally(() => {
            busy = false;
          });
      },
      Math.floor(leaseMs / 3),
    );
    timer.unref?.();
    return () => clearInterval(timer);
  };

  /** The due days of `key` this tick should try, and when to look again if all are finished. */
  async function candidates(key: string, now: Date): Promise<ScheduledDay[]> {
    const due = dueDays(schedule, now, catchUpDays);
    if (due.length === 0) return [];
    const { latest, slots } = await store.transaction(
      async (tx) => ({
        latest: await tx.dailyTasks.latestDay({ task: task.name, key }),
        slots: await tx.dailyTasks.list({
          task: task.name,
          key,
          fromDay: due[0]!.day,
          toDay: due.at(-1)!.day,
        }),
      }),
      { readOnly: true },
    );
    const byDay = new Map(slots.map((s) => [s.day, s]));
    const open = due.filter((d) => {
      const slot = byDay.get(d.day);
      if (slot) return slot.status === "running" || slot.status === "failed";
      // New slots: after the latest the task has (a gap before it was never scheduled here).
      return latest === null ? d === due.at(-1) : d.day > latest;
    });
    if (open.length === 0) {
      const next = schedule.next(now);
      idleUntil.set(key, next ? next.getTime() : Number.POSITIVE_INFINITY);
    } else {
      // Held by another worker or waiting for a retry: look again when that can change.
      const wake = open
        .map((d) => byDay.get(d.day))
        .map((s) => (s?.status === "failed" ? s.retryAt : s?.status === "running" ? s.leaseUntil : null))
        .filter((t): t is Date => t !== null)
        .map((t) => t.getTime());
      const fresh = open.some((d) => !byDay.has(d.day));
      idleUntil.set(key, fresh || wake.length === 0 ? 0 : Math.min(...wake));
    }
    return open;
  }

  async function runSlot(key: string, scheduled: ScheduledDay): Promise<DailyTaskOutcome | undefined> {
    const slot = { task: task.name, key, day: scheduled.day };
    const claimedAt = clock.now();
    const claim = await store.transaction((tx) =>
      tx.dailyTasks.claim({
        ...slot,
        workerId,
        now: claimedAt,
        leaseUntil: new Date(claimedAt.getTime() + leaseMs),
      }),
    );
    if (!claim.claimed) return undefined;
    const attempt = claim.run.attempts;
    let error: unknown;
    if (attempt > maxAttempts) error = new Error("attempt budget spent (a worker lost the lease)");
    else {
      const stop = heartbeat(slot);
      try {
        await task.run({
          ...slot,
          period: scheduled.period,
          scheduledAt: scheduled.scheduledAt,
          attempt,
          workerId,
        });
      } catch (caught) {
        error = caught ?? new Error("daily task failed");
      } finally {
        stop();
      }
    }
    const now = clock.now();
    if (error === undefined) {
      const done = await store.transaction((tx) => tx.dailyTasks.complete({ ...slot, workerId, now }));
      return { ...slot, attempt, status: done ? "succeeded" : "lost" };
    }
    const giveUp = attempt >= maxAttempts;
    const retryAt = giveUp ? null : new Date(now.getTime() + backoffDelay(attempt, deps.backoff));
    const message = describe(error);
    const recorded = await store.transaction((tx) =>
      tx.dailyTasks.fail({ ...slot, workerId, now, error: message, retryAt }),
    );
    if (!recorded) return { ...slot, attempt, status: "lost", error: message };
    const details = { ...slot, attempt, error: message, retryAt: retryAt?.toISOString() ?? null };
    if (giveUp) logger.error(`Daily task ${task.name} for ${key} on ${slot.day} gave up.`, details);
    else
      logger.warn(`Daily task ${task.name} for ${key} on ${slot.day} failed; it will be retried.`, details);
    return { ...slot, attempt, status: giveUp ? "dead" : "failed", error: message };
  }

  return {
    task: task.name,
    async tick() {
      const now = clock.now();
      const keys = typeof task.keys === "function" ? task.keys() : task.keys;
      const work: { key: string; day: ScheduledDay }[] = [];
      for (const key of keys) {
        if ((idleUntil.get(key) ?? 0) > now.getTime()) continue;
        for (const day of await candidates(key, now)) work.push({ key, day });
      }
      // Oldest day first, then the keys in their order.
      work.sort((a, b) => (a.day.day < b.day.day ? -1 : a.day.day > b.day.day ? 1 : 0));
      const outcomes: DailyTaskOutcome[] = [];
      for (const { key, day } of work) {
        const outcome = await runSlot(key, day);
        if (outcome) outcomes.push(outcome);
      }
      return outcomes;
    },
  };
}
