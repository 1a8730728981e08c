import type { Clock } from "../ports/clock.js";
import type { IdGenerator } from "../ports/ids.js";
import type { Job, JobInput } from "../ports/jobs.js";
import type { Store, StoreTx } from "../ports/store.js";
import { systemClock } from "../runtime/clock.js";
import { uuidv7Ids } from "../runtime/ids.js";
import type { BackoffPolicy } from "./backoff.js";
import { backoffDelay } from "./backoff.js";

/** The lease a job handler runs under (see {@link runJobsOnce}). */
export interface JobLease {
  /**
   * Renews the lease while this worker still holds it and says whether it does: false once
   * another worker took the job over (its lease ran out while this one was paused or cut off
   * from the store) or the job is no longer running. A handler asks just before an external side
   * effect (a PSP call): one that lost its lease must not act — the job's new holder does.
   */
  held(): Promise<boolean>;
}

/**
 * A job handler. Throw to retry; throw a {@link PermanentJobError} to dead-letter at once. The
 * runner passes the {@link JobLease} it runs under (absent when called outside the runner).
 */
export type JobHandler = (job: Job, lease?: JobLease) => Promise<void>;

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
  /**
   * A shutdown: once aborted, no more jobs are claimed or started; the claimed jobs not started
   * yet are released to the queue (their attempt given back), the running one finishes.
   */
  readonly stopping?: AbortSignal;
  /**
   * The shutdown's deadline: once aborted, the running job is not waited for — it is given back
   * to the queue as a failed attempt due at once (another worker runs it again; handlers are
   * idempotent) and its handler is left behind, so the process should exit.
   */
  readonly deadline?: AbortSignal;
}

export interface RunJobsResult {
  readonly claimed: number;
  readonly succeeded: number;
  readonly retried: number;
  readonly dead: number;
  /** Claimed jobs this worker lost to another before or while running them (not counted above). */
  readonly lost: number;
  /** Claimed jobs given back to the queue because the worker is stopping (not counted above). */
  readonly released: number;
  /** A job whose handler was still running at the deadline, given back unfinished (also in `released`). */
  readonly abandoned: number;
}

/**
 * `run`, or `"cut"` once `signal` aborts first (at once if it has). The listener is removed when
 * the race ends: a worker's deadline signal lives for the whole process, and a listener left per
 * job would pile up on it.
 */
function untilAborted<T>(run: Promise<T>, signal: AbortSignal | undefined): Promise<T | "cut"> {
  if (signal === undefined) return run;
  if (signal.aborted) return Promise.resolve("cut");
  let onAbort: () => void = () => undefined;
  const cut = new Promise<"cut">((resolve) => {
    onAbort = () => resolve("cut");
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([run, cut]).finally(() => signal.removeEventListener("abort", onAbort));
}

/** What a job cut short by a shutdown's deadline records as its attempt's error. */
const ABANDONED = new Error(
  "the worker shut down before the job finished (deadline); given back to the queue",
);

const describe = (error: unknown): string =>
  (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 2000);

/**
 * Keeps a claimed job's lease alive while its handler runs: every third of the lease it is
 * extended through the store (only while this worker holds it). Returns a stop function.
 */
function heartbeat(store: Store, clock: Clock, job: Job, workerId: string, leaseMs: number): () => void {
  let busy = false;
  const timer = setInterval(
    () => {
      if (busy) return;
      busy = true;
      const now = clock.now();
      store
        .transaction((tx) =>
          tx.jobs.renew({ id: job.id, workerId, now, leaseUntil: new Date(now.getTime() + leaseMs) }),
        )
        .catch(() => false) // unreachable store: the next beat tries again
        .finally(() => {
          busy = false;
        });
    },
    Math.max(1, Math.floor(leaseMs / 3)),
  );
  timer.unref?.();
  return () => clearInterval(timer);
}

/**
 * Claims due jobs of the handled types once and runs them one after another, outside any
 * transaction. Each job's lease is renewed before it starts (a job that waited behind slower ones
 * may have been taken over by another worker: it is skipped, never run twice) and while it runs.
 * A failure is retried after exponential backoff with jitter; after `maxAttempts` (or on a
 * PermanentJobError) the job is dead-lettered with its history and `onDead` runs — only when this
 * worker still held the lease, so a job taken over meanwhile is settled by its new holder alone.
 * A job whose worker died is re-claimed when its lease expires; if that pushed it past its
 * budget it is dead-lettered.
 */
export async function runJobsOnce(store: Store, options: RunJobsOptions): Promise<RunJobsResult> {
  const clock = options.clock ?? systemClock;
  const leaseMs = options.leaseMs ?? 300_000;
  const workerId = options.workerId;
  const empty = { claimed: 0, succeeded: 0, retried: 0, dead: 0, lost: 0, released: 0, abandoned: 0 };
  if (options.stopping?.aborted) return empty;
  const now = clock.now();
  const jobs = await store.transaction((tx) =>
    tx.jobs.claim({
      workerId,
      limit: options.limit ?? 10,
      now,
      leaseUntil: new Date(now.getTime() + leaseMs),
      types: Object.keys(options.handlers),
    }),
  );
  const result = { ...empty, claimed: jobs.length };
  for (const job of jobs) {
    if (options.stopping?.aborted) {
      // Given back at once rather than left to lease expiry: another worker takes it now.
      const released = await store.transaction((tx) =>
        tx.jobs.release({ id: job.id, workerId, now: clock.now() }),
      );
      if (released) result.released++;
      else result.lost++;
      continue;
    }
    const startedAt = clock.now();
    const held = await store.transaction((tx) =>
      tx.jobs.renew({
        id: job.id,
        workerId,
        now: startedAt,
        leaseUntil: new Date(startedAt.getTime() + leaseMs),
      }),
    );
    if (!held) {
      result.lost++;
      continue;
    }
    const handler = options.handlers[job.type];
    let error: unknown;
    if (job.attempts > job.maxAttempts)
      error = new PermanentJobError("attempt budget spent (worker lost the lease)");
    else if (!handler) error = new PermanentJobError(`no handler for job type ${job.type}`);
    else {
      const stop = heartbeat(store, clock, job, workerId, leaseMs);
      try {
        const lease: JobLease = {
          held: () => {
            const now = clock.now();
            return store.transaction((tx) =>
              tx.jobs.renew({ id: job.id, workerId, now, leaseUntil: new Date(now.getTime() + leaseMs) }),
            );
          },
        };
        const run = handler(job, lease).then(() => "done" as const);
        const outcome = await untilAborted(run, options.deadline);
        if (outcome === "cut") {
          run.catch(() => undefined); // left behind: its late failure must not go unhandled
          error = ABANDONED;
        }
      } catch (caught) {
        error = caught ?? new Error("job failed");
      } finally {
        stop();
      }
    }
    if (error === ABANDONED) {
      const at = clock.now();
      const given = await store.transaction((tx) =>
        tx.jobs.fail({ id: job.id, workerId, now: at, error: describe(error), retryAt: at }),
      );
      if (given) {
        result.released++;
        result.abandoned++;
      } else result.lost++;
      continue;
    }
    const at = clock.now();
    if (error === undefined) {
      const completed = await store.transaction((tx) => tx.jobs.complete({ id: job.id, workerId, now: at }));
      if (completed) result.succeeded++;
      else result.lost++;
      continue;
    }
    const giveUp = error instanceof PermanentJobError || job.attempts >= job.maxAttempts;
    const retryAt = giveUp
      ? null
      : new Date(at.getTime() + backoffDelay(job.attempts, options.backoff, options.random));
    const recorded = await store.transaction((tx) =>
      tx.jobs.fail({ id: job.id, workerId, now: at, error: describe(error), retryAt }),
    );
    if (!recorded) result.lost++;
    else if (giveUp) {
      result.dead++;
      await options.onDead?.(job, error);
    } else result.retried++;
  }
  return result;
}
