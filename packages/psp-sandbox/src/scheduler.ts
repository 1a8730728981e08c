import type { Clock } from "@settlekit/core";

interface Task {
  readonly due: number;
  readonly seq: number;
  readonly run: () => void;
  timer?: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Time-based work of the sandbox (bank transfers settling, payments expiring, webhook retries and
 * delays), kept as tasks due at a clock time. `runDue()` runs what is due by the clock, oldest
 * first, so a test with a manual clock decides exactly when time passes: advance the clock, then
 * `tick()`. With `auto` set, a real timer per task calls `runDue()` at its due time; the task still
 * only runs if the clock agrees it is due.
 *
 * Tasks are synchronous state changes; the asynchronous part (webhook POSTs) is tracked by the
 * dispatcher, which is what `tick()` then waits for.
 */
export class Scheduler {
  private tasks: Task[] = [];
  private seq = 0;
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly auto: boolean,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Runs `run` once the clock reaches `due` (at the next `runDue()` after it). */
  at(due: Date, run: () => void): void {
    if (this.closed) return;
    const task: Task = { due: due.getTime(), seq: this.seq++, run };
    this.tasks.push(task);
    if (this.auto) this.arm(task);
  }

  private arm(task: Task): void {
    // setTimeout caps delays at 2^31 − 1 ms (~24.8 days); a later task re-arms when that fires.
    const delay = Math.min(Math.max(0, task.due - this.clock.now().getTime()), 2 ** 31 - 1);
    task.timer = setTimeout(() => {
      task.timer = undefined;
      this.runDue();
      // Still pending: the clock lags the timer (or the cap was hit), so wait again.
      if (this.tasks.includes(task)) this.arm(task);
    }, delay);
    // A pending settlement must not keep a finished script alive; a server keeps the loop alive anyway.
    task.timer.unref?.();
  }

  /** `at(now + ms)`. */
  after(ms: number, run: () => void): void {
    this.at(new Date(this.clock.now().getTime() + ms), run);
  }

  /**
   * Runs every task due by the clock, in due order (ties: scheduling order), including tasks
   * that those tasks schedule as already due. A throwing task is reported and does not stop
   * the others.
   */
  runDue(): void {
    for (;;) {
      const now = this.clock.now().getTime();
      let next: Task | undefined;
      for (const task of this.tasks) {
        if (task.due > now) continue;
        if (!next || task.due < next.due || (task.due === next.due && task.seq < next.seq)) next = task;
      }
      if (!next) return;
      this.tasks = this.tasks.filter((t) => t !== next);
      if (next.timer) clearTimeout(next.timer);
      try {
        next.run();
      } catch (error) {
        this.onError(error);
      }
    }
  }

  /** Number of tasks not run yet (for tests and diagnostics). */
  pending(): number {
    return this.tasks.length;
  }

  /** Forgets every task and clears their timers; later `at` calls are ignored. */
  close(): void {
    this.closed = true;
    for (const task of this.tasks) if (task.timer) clearTimeout(task.timer);
    this.tasks = [];
  }
}
