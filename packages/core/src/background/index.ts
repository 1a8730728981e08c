export type { ScheduledDay, ZonedSchedule } from "./calendar.js";
export { dueDays, zonedSchedule } from "./calendar.js";
export type {
  DailySchedule,
  DailyTask,
  DailyTaskContext,
  DailyTaskDeps,
  DailyTaskOutcome,
  DailyTaskRunner,
} from "./daily-tasks.js";
export { dailyTaskRunner } from "./daily-tasks.js";
export { PSP_UNAVAILABLE } from "./job-handlers.js";
export type { NightlyReconciliationContext, NightlyReconciliationOptions } from "./nightly-reconciliation.js";
export { nightlyReconciliationTask, RECONCILIATION_TASK } from "./nightly-reconciliation.js";
export type { RefundSweepResult } from "./refund-sweeper.js";
export type { SweepResult } from "./sweeper.js";
export type { WorkerOptions, WorkerPassControl, WorkerStopResult } from "./worker.js";
export { createWorker, runWorkerPass } from "./worker.js";
