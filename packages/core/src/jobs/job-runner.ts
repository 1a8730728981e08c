import type { Clock } from "../ports/clock.js";
import { systemClock } from "../ports/clock.js";
import type { IdGenerator } from "../ports/ids.js";
import { uuidv7Ids } from "../ports/ids.js";
import type { Job, JobInput } from "../ports/jobs.js";
import type { Store, StoreTx } from "../ports/store.js";
import type { BackoffPolicy } from "./backoff.js";
import { backoffDelay } from "./backoff.js";

/** A job handler. Throw to retry; throw a {@link PermanentJobError} to dead-letter at once. */
export type JobHandler = (job: Job) => Promise<void>;

/** A failure retrying cannot fix (bad payload, a PSP's fatal answer): straight to the dead-letter queue. */
export class PermanentJobError extends Error {
  override readonly name = "PermanentJobError";
}

export const DEFAULT_MAX_ATTEMPTS = 8;

/** Enqueues a job inside `tx` (so it commits with the state change that wants it). */
export function enqueueJob(tx: StoreTx, job: JobInput, deps: { clock?: Clock; ids?: IdGenerator } = {}) {
  const now = (deps.clock ?? systemClock).now();
  return tx.jobs.enqueue(
    { ...job, id: (deps.ids ?? uuidv7Ids).newId(), maxAttempts: job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS },
    now,
  );
}

export interface RunJobsOptions {
  readonly workerId: string;
  readonly handlers: Readonly<Record<string, JobHandler>>;
  readonly limit?: number;
  /** How long a claim lasts before another worker may take the job over (default 5 min). */
  readonly leaseMs?: number;
  readonly backoff?: BackoffPolicy;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Called after a job was dead-lettered (e.g. to fail what it was working for). */
  readonly onDead?: (job: Job, error: unknown) => Promise<void>;
}

export interface RunJobsResult {
  readonly claimed: number;
  readonly succeeded: number;
  readonly retried: number;
  readonly dead: number;
}

const describe = (error: unknown): string =>
  (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 2000);

/**
 * Claims due jobs of the handled types once and runs them, outside any transaction. A failure
 * is retried after exponential backoff with jitter; after `maxAttempts` (or on a
 * PermanentJobError) the job is dead-lettered with its history. A job whose worker died is
 * re-claimed when its lease expires; if that pushed it past its budget it is dead-lettered.
 */
export async function runJobsOnce(store: Store, options: RunJobsOptions): Promise<RunJobsResult> {
  const clock = options.clock ?? systemClock;
  const now = clock.now();
  const jobs = await store.transaction((tx) =>
    tx.jobs.claim({
      workerId: options.workerId,
      limit: options.limit ?? 10,
      now,
      leaseUntil: new Date(now.getTime() + (options.leaseMs ?? 300_000)),
      types: Object.keys(options.handlers),
    }),
  );
  const result = { claimed: jobs.length, succeeded: 0, retried: 0, dead: 0 };
  for (const job of jobs) {
    const handler = options.handlers[job.type];
    let error: unknown;
    if (job.attempts > job.maxAttempts)
      error = new PermanentJobError("attempt budget spent (worker lost the lease)");
    else if (!handler) error = new PermanentJobError(`no handler for job type ${job.type}`);
    else {
      try {
        await handler(job);
      } catch (caught) {
        error = caught ?? new Error("job failed");
      }
    }
    const at = clock.now();
    if (error === undefined) {
      await store.transaction((tx) => tx.jobs.complete({ id: job.id, workerId: options.workerId, now: at }));
      result.succeeded++;
      continue;
    }
    const giveUp = error instanceof PermanentJobError || job.attempts >= job.maxAttempts;
    const retryAt = giveUp
      ? null
      : new Date(at.getTime() + backoffDelay(job.attempts, options.backoff, options.random));
    await store.transaction((tx) =>
      tx.jobs.fail({ id: job.id, workerId: options.workerId, now: at, error: describe(error), retryAt }),
    );
    if (giveUp) {
      result.dead++;
      await options.onDead?.(job, error);
    } else result.retried++;
  }
  return result;
}
