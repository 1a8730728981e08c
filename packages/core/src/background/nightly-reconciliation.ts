import { ErrorCodes, SettlekitError } from "../errors.js";
import type { PaymentSystem } from "../system.js";
import type { DailySchedule, DailyTask } from "./daily-tasks.js";

/** The slots' task name of the nightly reconciliation. */
export const RECONCILIATION_TASK = "reconciliation";

/** What the nightly reconciliation hook is told: one PSP and one day. */
export interface NightlyReconciliationContext {
  /** The PSP id (the slot's key). */
  readonly provider: string;
  /** The slot's day, `YYYY-MM-DD` in the schedule's zone. */
  readonly day: string;
  /** The calendar day before `day`, `[from, to)`: the settlement period to reconcile. */
  readonly period: { readonly from: Date; readonly to: Date };
  readonly scheduledAt: Date;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly workerId: string;
}

/**
 * The worker's nightly reconciliation (`createWorker(system, { reconciliation })`): `run` is called
 * once per PSP and calendar day across all workers, when `schedule` says, and for missed days after
 * downtime (`schedule.catchUpDays`). By default `run` is the reconciliation engine on the PSP's own
 * `readSettlement` — `({ provider, period }) => system.reconcile({ provider, period })` — so a host
 * gives only `{ schedule }`; a custom `run` replaces it (another source, a bank statement). A `run`
 * that throws (the PSP's report is not ready, the PSP is down) has the day retried with backoff (up
 * to `maxAttempts`).
 */
export interface NightlyReconciliationOptions {
  readonly schedule: DailySchedule;
  /** PSP ids to reconcile (default: every configured provider that can `readSettlement`). */
  readonly providers?: readonly string[];
  /** Default: `system.reconcile({ provider, period })` (the PSP's own `readSettlement`). */
  run?(context: NightlyReconciliationContext): Promise<unknown>;
  /** Attempts of one PSP and day before its slot is dead (default 5). */
  readonly maxAttempts?: number;
}

/** The nightly reconciliation as a {@link DailyTask} keyed by PSP id. */
export function nightlyReconciliationTask(
  system: PaymentSystem,
  options: NightlyReconciliationOptions,
): DailyTask {
  const configured = [...system.deps.providers.values()];
  const providers =
    options.providers ?? configured.filter((p) => p.readSettlement !== undefined).map((p) => p.id);
  for (const id of providers) {
    if (!system.deps.providers.has(id)) {
      throw new SettlekitError(
        ErrorCodes.VALIDATION_FAILED,
        `reconciliation.providers: "${id}" is not a configured payment provider.`,
        { param: "reconciliation.providers" },
      );
    }
  }
  const run =
    options.run ??
    (({ provider, period }: NightlyReconciliationContext) => system.reconcile({ provider, period }));
  return {
    name: RECONCILIATION_TASK,
    schedule: options.schedule,
    keys: providers,
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    run: ({ key, day, period, scheduledAt, attempt, workerId }) =>
      run({ provider: key, day, period, scheduledAt, attempt, workerId }),
  };
}
