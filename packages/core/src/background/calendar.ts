import { Cron } from "croner";
import { ErrorCodes, SettlekitError } from "../errors.js";

/** A cron expression read in an IANA time zone; what a daily task's schedule compiles to. */
export interface ZonedSchedule {
  readonly timeZone: string;
  /** The first occurrence strictly after `after` (second resolution), or null. */
  next(after: Date): Date | null;
  /** The start of the calendar day (local midnight, or the day's first instant) containing `at`. */
  startOfDay(at: Date): Date;
  /** The local calendar day of `at`, `YYYY-MM-DD`. */
  day(at: Date): string;
}

const invalid = (param: string, message: string, cause?: unknown) =>
  new SettlekitError(ErrorCodes.VALIDATION_FAILED, message, { param, cause });

/** Compiles `cron` in `timeZone`; VALIDATION_FAILED (naming the field) when either is not valid. */
export function zonedSchedule(cron: string, timeZone: string, param = "schedule"): ZonedSchedule {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hourCycle: "h23",
    });
  } catch (error) {
    throw invalid(
      `${param}.timeZone`,
      `"${timeZone}" is not an IANA time zone (e.g. "Europe/Berlin").`,
      error,
    );
  }
  let pattern: Cron;
  let midnight: Cron;
  try {
    // No callback: nothing is scheduled, the patterns are only evaluated.
    pattern = new Cron(cron, { timezone: timeZone });
    midnight = new Cron("0 0 0 * * *", { timezone: timeZone });
  } catch (error) {
    throw invalid(`${param}.cron`, `"${cron}" is not a cron expression: ${(error as Error).message}`, error);
  }
  const day = (at: Date): string => {
    const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
    return `${parts.year}-${parts.month}-${parts.day}`;
  };
  return {
    timeZone,
    next: (after) => pattern.nextRun(after),
    day,
    startOfDay(at) {
      // The last local midnight at or before `at`: at most 27 h back whatever the DST change.
      let start = midnight.nextRun(new Date(at.getTime() - 27 * 3_600_000))!;
      for (let next = midnight.nextRun(start); next && next <= at; next = midnight.nextRun(start))
        start = next;
      return start;
    },
  };
}

/** One scheduled day of a daily task: its calendar day, when it fell due, and the day before. */
export interface ScheduledDay {
  readonly day: string;
  readonly scheduledAt: Date;
  /** The calendar day before `day` in the schedule's zone: `[from, to)`, `to` = the start of `day`. */
  readonly period: { readonly from: Date; readonly to: Date };
}

/**
 * The days of the last `catchUpDays` + 1 (today included) whose first occurrence is at or before
 * `now`, oldest first. Several occurrences on one day count once (the first).
 */
export function dueDays(schedule: ZonedSchedule, now: Date, catchUpDays: number): ScheduledDay[] {
  const starts = [schedule.startOfDay(now)];
  for (let i = 0; i < catchUpDays + 1; i++)
    starts.unshift(schedule.startOfDay(new Date(starts[0]!.getTime() - 1)));
  const due: ScheduledDay[] = [];
  for (let i = 1; i < starts.length; i++) {
    const start = starts[i]!;
    const end =
      i + 1 < starts.length
        ? starts[i + 1]!
        : schedule.startOfDay(new Date(start.getTime() + 27 * 3_600_000));
    const scheduledAt = schedule.next(new Date(start.getTime() - 1_000));
    if (!scheduledAt || scheduledAt >= end || scheduledAt > now) continue;
    due.push({ day: schedule.day(start), scheduledAt, period: { from: starts[i - 1]!, to: start } });
  }
  return due;
}
