import { ErrorCodes, isSettlekitError, SettlekitError } from "../errors.js";
import { runJobsOnce } from "../jobs/job-runner.js";
import { relayOutboxOnce } from "../outbox/outbox.js";
import type { ReleaseResult } from "../services/fulfilment/fulfilment.js";
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
import { sweepPendingRefunds } from "./refund-sweeper.js";
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
  /**
   * How long a claimed job stays leased to this worker before another may take it over (default
   * 300 000 ms). The lease is renewed every third of it while the job runs, so this is only how
   * soon a job of a process that died without releasing it (SIGKILL, power loss) is run again.
   */
  readonly jobLeaseMs?: number;
}

/** What {@link runWorkerPass} is told besides the system: a shutdown in progress, lease length. */
export interface WorkerPassControl {
  /** Aborted when the worker stops: no more claims; claimed jobs not started are released. */
  readonly stopping?: AbortSignal;
  /** Aborted at the shutdown's deadline: the running job is given back unfinished. */
  readonly deadline?: AbortSignal;
  /** See {@link WorkerOptions.jobLeaseMs}. */
  readonly jobLeaseMs?: number;
}

/** What {@link createWorker}'s `stop` resolves with. */
export interface WorkerStopResult {
  /** True when everything in flight finished before the deadline (nothing was abandoned). */
  readonly clean: boolean;
  /** Claimed jobs given back to the queue by this stop (another worker claims them at once). */
  readonly released: number;
  /** Of those, jobs whose handler was still running at the deadline (counted as a failed attempt). */
  readonly abandoned: number;
}

/** One pass of every background duty; what a worker loop repeats. Safe to run in many processes. */
export async function runWorkerPass(
  system: PaymentSystem,
  workerId: string,
  control: WorkerPassControl = {},
) {
  const { deps } = system;
  const { stopping, deadline } = control;
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
    ...(control.jobLeaseMs === undefined ? {} : { leaseMs: control.jobLeaseMs }),
    ...(stopping ? { stopping } : {}),
    ...(deadline ? { deadline } : {}),
  });
  // A worker told to stop starts no new step: what is left of the pass is the other workers'.
  const stopped = () => stopping?.aborted === true;
  const payoutsScheduled =
    !stopped() && deps.payoutProviderId ? await schedulePayouts(deps) : STOPPED_PASS.payoutsScheduled;
  const webhooks = stopped() ? STOPPED_PASS.webhooks : await retryDeferredWebhooks(deps);
  const sweep = stopped() ? STOPPED_PASS.sweep : await sweepPendingPayments(deps);
  const refundSweep = stopped() ? STOPPED_PASS.refundSweep : await sweepPendingRefunds(deps);
  const releases = stopped() ? STOPPED_PASS.releases : await releaseDueOrders(deps);
  const recovered = stopped() ? STOPPED_PASS.recovered : await recoverStalledRequests(deps);
  const expiredKeys = stopped()
    ? STOPPED_PASS.expiredKeys
    : await deps.store.transaction((tx) =>
        tx.idempotencyKeys.deleteExpired({ now: deps.clock.now(), limit: 500 }),
      );
  return {
    relay,
    jobs,
    webhooks,
    sweep,
    refundSweep,
    releases,
    recovered,
    expiredKeys,
    payoutsScheduled,
    /** True when a stop cut the pass short (the steps after it report zero). */
    stopped: stopped(),
  };
}

/** The parts of a pass a stopping worker skipped. */
const STOPPED_PASS = {
  webhooks: 0,
  sweep: { polled: 0, changed: 0, expired: 0 },
  refundSweep: { polled: 0, settled: 0, capturesSettled: 0 },
  releases: { released: 0, deferred: 0, failed: 0 } satisfies ReleaseResult,
  recovered: 0,
  expiredKeys: 0,
  payoutsScheduled: 0,
};

/**
 * The worker runtime: `start()` loops passes until `stop()`; several instances can run at once.
 *
 * `stop({ deadlineMs })` is the graceful shutdown (what a process does on SIGTERM): no more
 * claims; the jobs it claimed but has not started are released at once (another worker claims
 * them without waiting for the lease to expire); the pass in flight finishes. At the deadline (or
 * when `stop({ deadlineMs: 0 })` is called again, e.g. on a second signal), the job still running
 * is given back to the queue unfinished and `stop` resolves with `clean: false` — its handler is
 * left behind, so exit the process then. The store is the host's to close afterwards.
 */
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
  let stopping = new AbortController();
  let deadline = new AbortController();
  let released = 0;
  let abandoned = 0;
  const control = () => ({
    stopping: stopping.signal,
    deadline: deadline.signal,
    ...(options.jobLeaseMs === undefined ? {} : { jobLeaseMs: options.jobLeaseMs }),
  });
  return {
    workerId,
    /** Runs the due daily tasks once now (what the loop does after each pass); for hosts and tests. */
    runDailyTasks,
    start() {
      if (running) return;
      running = true;
      stopping = new AbortController();
      deadline = new AbortController();
      loop = (async () => {
        let migrated = system.deps.store.assertMigrated === undefined;
        let reported: string | undefined;
        while (running) {
          let busy = false;
          try {
            // Once, before the first pass: a missing migration says so instead of failing passes.
            if (!migrated) await system.deps.store.assertMigrated?.();
            migrated = true;
            const pass = await runWorkerPass(system, workerId, control());
            released += pass.jobs.released;
            abandoned += pass.jobs.abandoned;
            busy =
              pass.relay.published +
                pass.jobs.claimed +
                pass.recovered +
                pass.releases.released +
                pass.payoutsScheduled >
              0;
            reported = undefined;
            // Daily tasks (a reconciliation can take minutes) run beside the passes, one tick at a time.
            if (runners.length > 0 && daily === undefined && running) {
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
    /**
     * Stops the loop (see the graceful shutdown above). Without `deadlineMs` it waits for the work
     * in flight however long it takes; `deadlineMs: 0` abandons it at once. Calling it again
     * while a stop is under way shortens that stop's deadline.
     */
    async stop(stopOptions: { readonly deadlineMs?: number } = {}): Promise<WorkerStopResult> {
      const { deadlineMs } = stopOptions;
      if (deadlineMs !== undefined && (!Number.isFinite(deadlineMs) || deadlineMs < 0)) {
        throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "deadlineMs must be a number ≥ 0.", {
          param: "deadlineMs",
        });
      }
      running = false;
      stopping.abort();
      wake?.();
      const cut = deadline;
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (deadlineMs !== undefined) timer = setTimeout(() => cut.abort(), deadlineMs);
      const cutOff = new Promise<void>((resolve) => {
        if (cut.signal.aborted) resolve();
        else cut.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      const releasedBefore = released;
      const abandonedBefore = abandoned;
      try {
        await loop;
        // A daily task (reconciliation) is not cut short: past the deadline its slot's lease
        // (`leaseMs`, 60 s by default) lets another worker take it over.
        const dailyDone =
          daily === undefined ? "done" : await Promise.race([daily.then(() => "done"), cutOff]);
        return {
          clean: abandoned === abandonedBefore && dailyDone === "done",
          released: released - releasedBefore,
          abandoned: abandoned - abandonedBefore,
        };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
