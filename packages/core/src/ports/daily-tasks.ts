/**
 * `running` is leased to a worker; `succeeded` is done for good; `failed` waits for `retryAt`;
 * `dead` gave up after its attempts (an operator looks).
 */
export type DailyTaskRunStatus = "running" | "succeeded" | "failed" | "dead";

/** One slot of a daily task: a task (`reconciliation`), a key (a PSP id) and a calendar day. */
export interface DailyTaskSlot {
  readonly task: string;
  readonly key: string;
  /** `YYYY-MM-DD`, the calendar day in the task's time zone. */
  readonly day: string;
}

/** What happened to one slot. */
export interface DailyTaskRun extends DailyTaskSlot {
  readonly status: DailyTaskRunStatus;
  /** Claims so far (a claim starts an attempt). */
  readonly attempts: number;
  /** The worker that holds it (`running`) or ran it last. */
  readonly workerId: string;
  /** While `running`: when another worker may take it over (its worker died). */
  readonly leaseUntil: Date | null;
  /** While `failed`: when it may be claimed again. */
  readonly retryAt: Date | null;
  readonly lastError: string | null;
  /** The start of the last attempt. */
  readonly startedAt: Date;
  /** When it succeeded or died. */
  readonly finishedAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export type DailyTaskClaim =
  | { readonly claimed: true; readonly run: DailyTaskRun }
  | { readonly claimed: false; readonly run: DailyTaskRun };

/**
 * The slots of daily tasks (the nightly reconciliation per PSP…), so that each runs once per key
 * and day across any number of workers. The policy (schedule, catch-up, backoff) lives in core's
 * daily-task runner; adapters store and claim.
 */
export interface DailyTaskRepository {
  /**
   * Claims a slot for `workerId` until `leaseUntil`: creates it `running` (attempts 1) when it does
   * not exist, or takes it over when it is `running` with an expired lease or `failed` with
   * `retryAt ≤ now` (attempts + 1, `retryAt` cleared). Otherwise nothing changes and the slot is
   * returned with `claimed: false` (another worker holds it, it succeeded, is dead, or waits).
   *
   * Concurrency contract: of concurrent claims of one slot, exactly one gets `claimed: true`.
   * Commit the claim before running the task.
   */
  claim(query: DailyTaskSlot & { workerId: string; now: Date; leaseUntil: Date }): Promise<DailyTaskClaim>;

  /** Extends the lease of a `running` slot `workerId` holds. False when it no longer holds it. */
  renew(query: DailyTaskSlot & { workerId: string; now: Date; leaseUntil: Date }): Promise<boolean>;

  /** Marks a held slot `succeeded` for good. False (nothing changed) when `workerId` does not hold it. */
  complete(query: DailyTaskSlot & { workerId: string; now: Date }): Promise<boolean>;

  /**
   * Records a failed attempt of a held slot: `failed` until `retryAt`, or `dead` with
   * `retryAt: null`. False when `workerId` does not hold it.
   */
  fail(
    query: DailyTaskSlot & { workerId: string; now: Date; error: string; retryAt: Date | null },
  ): Promise<boolean>;

  get(slot: DailyTaskSlot): Promise<DailyTaskRun | null>;

  /** The slots of a task, optionally one key and a day range (inclusive), by day then key. */
  list(query: {
    task: string;
    key?: string;
    fromDay?: string;
    toDay?: string;
    limit?: number;
  }): Promise<DailyTaskRun[]>;

  /** The latest day any slot of `task` and `key` exists for (whatever its status), or null. */
  latestDay(query: { task: string; key: string }): Promise<string | null>;
}
