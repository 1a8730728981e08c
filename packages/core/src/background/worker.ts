import { ErrorCodes, isSettlekitError, SettlekitError } from "../errors.js";
import { runJobsOnce } from "../jobs/job-runner.js";
import { relayOutboxOnce } from "../outbox/outbox.js";
import { releaseDueOrders } from "../services/fulfilment/fulfilment.js";
import { schedulePayouts } from "../services/payouts/schedule.js";
import { retryDeferredWebhooks } from "../services/webhooks/webhooks.js";
import type { PaymentSystem } from "../system.js";
import type { DailyTask, DailyTaskOutcome } from "./daily-tasks.js";
import { dailyTaskRunner } from "./daily-tasks.js";
import { onJobDead, paymentJobHandlers } from "./job-handlers.js";
import type { NightlyReconciliationOptions } from "./nightly-reconciliation.js";
import { nightlyReconciliationTask } from "./nightly-reconciliation.js";
import { recoverStalledRequests } from "./recovery.js";
import { sweepPendingPayments } from "./sweeper.js";

export interface WorkerOptions {
  /** Unique per process (default: a new id); shows in job history and leases. */
  readonly workerId?: string;
  /** Pause between passes when there was nothing to do (default 1 000 ms). */
  readonly idleMs?: number;
  /**
   * Called with errors of a pass (the worker keeps running). A store that is not migrated or is
   * unavailable fails every pass the same way: that is reported once, and again only after a pass
   * succeeded in between.
   */
  readonly onError?: (error: unknown) => void;
  /**
   * Tasks run once per key and calendar day across all workers (cron + IANA time zone, with
   * catch-up after downtime); see `DailyTask`. They run beside the passes, one at a time.
   */
  readonly dailyTasks?: readonly DailyTask[];
  /**
   * The nightly reconciliation per PSP: `{ schedule: { cron, timeZone, catchUpDays }, run }`, see
   * `NightlyReconciliationOptions` (a daily task named `reconciliation`, keyed by PSP id).
   */
  readonly reconciliation?: NightlyReconciliationOptions;
}

/** One pass of every background duty; what a worker loop repeats. Safe to run in many processes. */
export async function runWorkerPass(system: PaymentSystem, workerId: string) {
  const { deps } = system;
  const relay = await relayOutboxOnce(deps.store, deps.publisher, {
    workerId,
    clock: deps.clock,
    backoff: deps.backoff,
  });
  const jobs = await runJobsOnce(deps.store, {
    workerId,
    handlers: paymentJobHandlers(deps),
    clock: deps.clock,
    backoff: deps.backoff,
    onDead: (job, error) => onJobDead(deps, job, error),
  });
  const payoutsScheduled = deps.payoutProviderId ? await schedulePayouts(deps) : 0;
  const webhooks = await retryDeferredWebhooks(deps);
  const sweep = await sweepPendingPayments(deps);
  const releases = await releaseDueOrders(deps);
  const recovered = await recoverStalledRequests(deps);
  const expiredKeys = await deps.store.transaction((tx) =>
    tx.idempotencyKeys.deleteExpired({ now: deps.clock.now(), limit: 500 }),
  );
  return { relay, jobs, webhooks, sweep, releases, recovered, expiredKeys, payoutsScheduled };
}

/** The worker runtime: `start()` loops passes until `stop()`; several instances can run at once. */
export function createWorker(system: PaymentSystem, options: WorkerOptions = {}) {
  const workerId = options.workerId ?? `worker-${system.deps.ids.newId()}`;
  const idleMs = options.idleMs ?? 1_000;
  const tasks = [
    ...(options.dailyTasks ?? []),
    ...(options.reconciliation ? [nightlyReconciliationTask(system, options.reconciliation)] : []),
  ];
  const names = new Set(tasks.map((t) => t.name));
  if (names.size !== tasks.length) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "Two daily tasks have the same name.", {
      param: "dailyTasks",
    });
  }
  // Built here: a bad cron expression or time zone fails createWorker, not the first night.
  const runners = tasks.map((task) => dailyTaskRunner(system.deps, task, { workerId }));
  /** Every daily task once, one after another; what the loop runs beside its passes. */
  const runDailyTasks = async (): Promise<DailyTaskOutcome[]> => {
    const outcomes: DailyTaskOutcome[] = [];
    for (const runner of runners) outcomes.push(...(await runner.tick()));
    return outcomes;
  };
  let daily: Promise<void> | undefined;
  let dailyReported: string | undefined;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  return {
    workerId,
    /** Runs the due daily tasks once now (what the loop does after each pass); for hosts and tests. */
    runDailyTasks,
    start() {
      if (running) return;
      running = true;
      loop = (async () => {
        let migrated = system.deps.store.assertMigrated === undefined;
        let reported: string | undefined;
        while (running) {
          let busy = false;
          try {
            // Once, before the first pass: a missing migration says so instead of failing passes.
            if (!migrated) await system.deps.store.assertMigrated?.();
            migrated = true;
            const pass = await runWorkerPass(system, workerId);
            busy =
              pass.relay.published +
                pass.jobs.claimed +
                pass.recovered +
                pass.releases.released +
                pass.payoutsScheduled >
              0;
            reported = undefined;
            // Daily tasks (a reconciliation can take minutes) run beside the passes, one tick at a time.
            if (runners.length > 0 && daily === undefined) {
              daily = runDailyTasks()
                .then(
                  () => {
                    dailyReported = undefined;
                  },
                  (error: unknown) => {
                    // The same failure every pass (database down) is reported once until a tick succeeds.
                    const said = error instanceof Error ? error.message : String(error);
                    if (said !== dailyReported) options.onError?.(error);
                    dailyReported = said;
                  },
                )
                .finally(() => {
                  daily = undefined;
                });
            }
          } catch (error) {
            const code =
              isSettlekitError(error, ErrorCodes.STORE_NOT_MIGRATED) ||
              isSettlekitError(error, ErrorCodes.STORE_UNAVAILABLE)
                ? error.code
                : undefined;
            if (code === undefined || code !== reported) options.onError?.(error);
            reported = code;
          }
          if (!busy && running) {
            await new Promise<void>((resolve) => {
              wake = resolve;
              setTimeout(resolve, idleMs).unref?.();
            });
          }
        }
      })();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
      await daily;
    },
  };
}
