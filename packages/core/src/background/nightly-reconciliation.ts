import { planAlert } from "../alerts/plan-alert.js";
import type { ReconciliationRun } from "../domain/reconciliation.js";
import { ErrorCodes, SettlekitError } from "../errors.js";
import { overduePendingAlert } from "../services/reconciliation/alert.js";
import { duePendingItems } from "../services/reconciliation/reconcile.js";
import type { PaymentSystem } from "../system.js";
import type { ZonedSchedule } from "./calendar.js";
import { zonedSchedule } from "./calendar.js";
import type { DailySchedule, DailyTask, DailyTaskContext } from "./daily-tasks.js";

/** The slots' task name of the nightly reconciliation. */
export const RECONCILIATION_TASK = "reconciliation";

const DAY = 86_400_000;
/** The most earlier days a night may look back at (`lookbackDays`). */
const MAX_LOOKBACK_DAYS = 31;

/** What the nightly reconciliation hook is told: one PSP and one day. */
export interface NightlyReconciliationContext {
  /** The PSP id (the slot's key). */
  readonly provider: string;
  /** The slot's day, `YYYY-MM-DD` in the schedule's zone (for a re-run: the earlier day's). */
  readonly day: string;
  /** The calendar day before `day`, `[from, to)`: the settlement period to reconcile. */
  readonly period: { readonly from: Date; readonly to: Date };
  /** The occurrence that made the night due (for a re-run too: the night that re-runs the day). */
  readonly scheduledAt: Date;
  /** 1 for the first attempt (of the night's slot). */
  readonly attempt: number;
  readonly workerId: string;
  /**
   * Set when the night re-runs an earlier day (see `lookbackDays`): the period's current run,
   * whose `pending` items have come due since. Undefined for the night's own day.
   */
  readonly rerunOf?: ReconciliationRun;
}

/**
 * The worker's nightly reconciliation (`createWorker(system, { reconciliation })`): `run` is called
 * once per PSP and calendar day across all workers, when `schedule` says, and for missed days after
 * downtime (`schedule.catchUpDays`). By default `run` is the reconciliation engine on the PSP's own
 * `readSettlement` — `({ provider, period }) => system.reconcile({ provider, period })` — so a host
 * gives only `{ schedule }`; a custom `run` replaces it (another source, a bank statement). A `run`
 * that throws (the PSP's report is not ready, the PSP is down) has the day retried with backoff (up
 * to `maxAttempts`).
 *
 * After its own day, each night looks back at the PSP's `lookbackDays` earlier days: a day whose
 * current run still holds `pending` items that have come due since (past the settlement lag, or
 * the neighbouring period a pair's half waited for is reconciled now) is run again, oldest first —
 * by `run` with `rerunOf` set, which for the default `run` is the engine on `readSettlement` again:
 * a fresh run that supersedes the stored one, gives those items their discrepancy class and
 * alerts them. A day whose current run came from a file (an operator's upload, which the worker
 * cannot read again) is not re-run by the default `run`: it gets one `reconciliation.pending_overdue`
 * alert (critical, once per run) telling the operator to reconcile the day again with its file;
 * so does a day a custom `run` left as it was. A day with nothing due costs a few reads and no run.
 */
export interface NightlyReconciliationOptions {
  readonly schedule: DailySchedule;
  /** PSP ids to reconcile (default: every configured provider that can `readSettlement`). */
  readonly providers?: readonly string[];
  /** Default: `system.reconcile({ provider, period })` (the PSP's own `readSettlement`). */
  run?(context: NightlyReconciliationContext): Promise<unknown>;
  /** Attempts of one PSP and day before its slot is dead (default 5). */
  readonly maxAttempts?: number;
  /**
   * How many days before the night's own one it looks back at for `pending` items that came due
   * (0: never). Default: the system's settlement lag in days (rounded up) plus one — the day whose
   * items the lag still covered, and the neighbouring day a pair's half waits for — at most 7;
   * at most 31.
   */
  readonly lookbackDays?: number;
}

/** The day before `slot`'s period, as a slot of its own: its day and its period. */
function dayBefore(schedule: ZonedSchedule, period: { readonly from: Date; readonly to: Date }) {
  const to = period.from;
  return {
    day: schedule.day(to),
    period: { from: schedule.startOfDay(new Date(to.getTime() - 1)), to },
  };
}

/** The nightly reconciliation as a {@link DailyTask} keyed by PSP id. */
export function nightlyReconciliationTask(
  system: PaymentSystem,
  options: NightlyReconciliationOptions,
): DailyTask {
  const { deps } = system;
  const configured = [...deps.providers.values()];
  const providers =
    options.providers ?? configured.filter((p) => p.readSettlement !== undefined).map((p) => p.id);
  for (const id of providers) {
    if (!deps.providers.has(id)) {
      throw new SettlekitError(
        ErrorCodes.VALIDATION_FAILED,
        `reconciliation.providers: "${id}" is not a configured payment provider.`,
        { param: "reconciliation.providers" },
      );
    }
  }
  const lagMs = deps.options.reconciliation?.settlementLagMs ?? DAY;
  const lookbackDays = options.lookbackDays ?? Math.min(7, Math.ceil(Math.max(0, lagMs) / DAY) + 1);
  if (!Number.isSafeInteger(lookbackDays) || lookbackDays < 0 || lookbackDays > MAX_LOOKBACK_DAYS) {
    throw new SettlekitError(
      ErrorCodes.VALIDATION_FAILED,
      `reconciliation.lookbackDays must be a whole number in [0, ${MAX_LOOKBACK_DAYS}].`,
      { param: "reconciliation.lookbackDays" },
    );
  }
  const schedule = zonedSchedule(
    options.schedule.cron,
    options.schedule.timeZone,
    `dailyTasks.${RECONCILIATION_TASK}.schedule`,
  );
  const run =
    options.run ??
    (({ provider, period }: NightlyReconciliationContext) => system.reconcile({ provider, period }));

  /**
   * The current run of one earlier day, run again when its pending items came due. Two workers
   * re-running one day at once (two nights caught up at once) make one new run: the engine's
   * commit locks the period, and the second finds the first's run, with nothing due, and
   * answers it (`replayed`).
   */
  async function rerun(night: DailyTaskContext, earlier: ReturnType<typeof dayBefore>) {
    const key = { pspId: night.key, periodFrom: earlier.period.from, periodTo: earlier.period.to };
    const current = await deps.store.transaction((tx) => tx.reconciliation.findCurrentRun(key), {
      readOnly: true,
    });
    if (!current || (await duePendingItems(deps, current, { limit: 1 })) === 0) return;
    let answer: unknown;
    // The default run reads the PSP again; an uploaded file it cannot read again.
    if (options.run !== undefined || current.source === "psp") {
      answer = await run({
        provider: night.key,
        day: earlier.day,
        period: earlier.period,
        scheduledAt: night.scheduledAt,
        attempt: night.attempt,
        workerId: night.workerId,
        rerunOf: current,
      });
    }
    // The engine said the same source is still the same answer (a custom run's own, longer lag).
    const same = answer as { run?: { id?: unknown }; replayed?: unknown } | undefined;
    if (same?.replayed === true && same.run?.id === current.id) return;
    const after = await deps.store.transaction((tx) => tx.reconciliation.findCurrentRun(key), {
      readOnly: true,
    });
    if (after?.id !== current.id) return;
    const overdue = await duePendingItems(deps, current);
    if (overdue === 0) return;
    await deps.store.transaction((tx) =>
      planAlert(tx, overduePendingAlert(current, overdue, deps.clock.now()), deps),
    );
  }

  return {
    name: RECONCILIATION_TASK,
    schedule: options.schedule,
    keys: providers,
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    run: async (night) => {
      const { key, day, period, scheduledAt, attempt, workerId } = night;
      const result = await run({ provider: key, day, period, scheduledAt, attempt, workerId });
      // The earlier days, oldest first, once the night's own is reconciled (a pair's half of the
      // day before may wait for it). A failing one does not stop the others; the night is retried.
      const earlier = [];
      for (let d = { day, period }; earlier.length < lookbackDays; ) {
        d = dayBefore(schedule, d.period);
        earlier.unshift(d);
      }
      const failures: unknown[] = [];
      for (const d of earlier) {
        try {
          await rerun(night, d);
        } catch (error) {
          failures.push(error);
        }
      }
      if (failures.length === 1) throw failures[0];
      if (failures.length > 1)
        throw new AggregateError(failures, `${failures.length} earlier days could not be reconciled again`);
      return result;
    },
  };
}
