import type { JsonValue } from "./json.js";

/** `queued` waits for `runAt`; `running` is leased; `succeeded` is done; `dead` is the dead-letter queue. */
export type JobStatus = "queued" | "running" | "succeeded" | "dead";

export interface JobInput {
  /** Handler name, e.g. `psp.register`, `notify.payment_succeeded`. */
  readonly type: string;
  readonly payload: JsonValue;
  /** Not before (default: now). */
  readonly runAt?: Date;
  /** Attempts before the job goes to the dead-letter queue (default 8). */
  readonly maxAttempts?: number;
  /** At most one job per dedupe key ever exists; enqueueing it again returns the existing job. */
  readonly dedupeKey?: string;
}

/** One finished attempt, kept in the job's history for operators. */
export interface JobAttempt {
  readonly attempt: number;
  readonly at: string;
  readonly workerId: string;
  readonly outcome: "succeeded" | "failed" | "dead";
  readonly error?: string;
}

export interface Job {
  readonly id: string;
  readonly type: string;
  readonly payload: JsonValue;
  readonly status: JobStatus;
  /** Attempts started so far (a claim starts one). */
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly runAt: Date;
  readonly lockedBy: string | null;
  readonly lockedUntil: Date | null;
  readonly lastError: string | null;
  readonly history: readonly JobAttempt[];
  readonly dedupeKey: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/**
 * Durable jobs: retries with backoff and a dead-letter queue. The policy (backoff, when to
 * give up) lives in core's job runner; adapters store and claim.
 */
export interface JobRepository {
  /**
   * Enqueues a job (id assigned by core). With a `dedupeKey` already present, nothing is written
   * and the existing job is returned with `created: false`.
   */
  enqueue(job: JobInput & { readonly id: string }, now: Date): Promise<{ job: Job; created: boolean }>;

  /**
   * Claims up to `limit` jobs that are `queued` with `runAt ≤ now`, or `running` with an expired
   * lease (their worker died), optionally only of some `types`, oldest `runAt` first. Each
   * becomes `running`, leased to `workerId` until `leaseUntil`, with `attempts` + 1.
   *
   * Concurrency contract: concurrent claims return disjoint sets (Postgres:
   * `FOR UPDATE SKIP LOCKED`). Commit the claim before running the job.
   */
  claim(query: {
    workerId: string;
    limit: number;
    now: Date;
    leaseUntil: Date;
    types?: readonly string[];
  }): Promise<Job[]>;

  /**
   * Extends the lease of a `running` job to `leaseUntil` while `workerId` holds it: a worker
   * renews before each job it claimed and while the job runs, so a short lease is enough and a
   * job is never run by two workers at once. False (nothing changed) when another worker took it
   * over or it is no longer running; a lapsed lease nobody took over is still the holder's.
   */
  renew(query: { id: string; workerId: string; now: Date; leaseUntil: Date }): Promise<boolean>;

  /**
   * Gives a job `workerId` claimed but has not started back to the queue (a worker shutting
   * down): `queued` again at its `runAt`, lease dropped, and the attempt the claim started taken
   * back (`attempts` − 1, history unchanged), so another worker claims it at once instead of
   * waiting for the lease to expire. False (nothing changed) when `workerId` no longer holds the
   * lease. A job whose handler did start is given back with {@link fail} (`retryAt: now`), which
   * counts the attempt.
   */
  release(query: { id: string; workerId: string; now: Date }): Promise<boolean>;

  /** Marks a job succeeded. False (nothing changed) when `workerId` no longer holds its lease. */
  complete(query: { id: string; workerId: string; now: Date }): Promise<boolean>;

  /**
   * Records a failed attempt in the history. With `retryAt` the job is `queued` again for then;
   * with `retryAt: null` it is `dead` (dead-lettered). False when the lease is not held.
   */
  fail(query: {
    id: string;
    workerId: string;
    now: Date;
    error: string;
    retryAt: Date | null;
  }): Promise<boolean>;

  /** Dead-lettered jobs, oldest first. */
  listDead(query?: { limit?: number; type?: string }): Promise<Job[]>;

  /**
   * Puts a dead job back in the queue with a fresh attempt budget (history kept). False when
   * the job is not dead.
   */
  replay(query: { id: string; now: Date }): Promise<boolean>;

  get(id: string): Promise<Job | null>;
}
