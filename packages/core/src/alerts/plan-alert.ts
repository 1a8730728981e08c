import type { Deps } from "../deps.js";
import { isSettlekitError } from "../errors.js";
import type { JobHandler } from "../jobs/job-runner.js";
import { enqueueJob, PermanentJobError } from "../jobs/job-runner.js";
import type { Alert } from "../ports/alerts.js";
import type { Clock } from "../ports/clock.js";
import type { IdGenerator } from "../ports/ids.js";
import type { Job } from "../ports/jobs.js";
import type { JsonObject } from "../ports/json.js";
import type { StoreTx } from "../ports/store.js";
import { alertFromJson, alertToJson } from "./alert-json.js";

/** The job that delivers one alert through the system's `alertSink`. */
export const ALERT_DELIVER_JOB = "alert.deliver";

/** Default attempts of an alert delivery before it is dead-lettered (with the default 1 s…1 h backoff: at most about 18 hours of retries). */
export const DEFAULT_ALERT_MAX_ATTEMPTS = 30;

export interface PlanAlertOptions {
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  /** Default {@link DEFAULT_ALERT_MAX_ATTEMPTS}. */
  readonly maxAttempts?: number;
}

/**
 * Plans the delivery of `alert` inside `tx`, so it commits with whatever raised it (a
 * reconciliation run) or not at all: an `alert.deliver` job, deduplicated by `alertId` — planning
 * the same alert again (a re-run) returns the existing job and sends nothing new. The worker's job
 * runner then calls the system's `alertSink` outside any transaction, retries failures with
 * backoff and dead-letters them after `maxAttempts` (`system.listDeadLetters({ type:
 * "alert.deliver" })`, replayable). Pass the system's `deps` as options to use its clock and ids.
 */
export async function planAlert(tx: StoreTx, alert: Alert, options: PlanAlertOptions = {}): Promise<Job> {
  const { job } = await enqueueJob(
    tx,
    {
      type: ALERT_DELIVER_JOB,
      payload: alertToJson(alert) as unknown as JsonObject,
      dedupeKey: `alert:${alert.alertId}`,
      maxAttempts: options.maxAttempts ?? DEFAULT_ALERT_MAX_ATTEMPTS,
    },
    options,
  );
  return job;
}

/** The `alert.deliver` handler: a malformed payload or a non-retryable failure dead-letters at once. */
export const deliverAlert =
  (deps: Deps): JobHandler =>
  async (job) => {
    let alert: Alert;
    try {
      alert = alertFromJson(job.payload);
    } catch (error) {
      throw new PermanentJobError(`job ${job.id} carries no alert: ${(error as Error).message}`);
    }
    try {
      await deps.alertSink.send(alert);
    } catch (error) {
      if (isSettlekitError(error) && error.details?.retryable === false)
        throw new PermanentJobError(error.message);
      throw error;
    }
  };
