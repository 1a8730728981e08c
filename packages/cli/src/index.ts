/**
 * `@settlekit/cli`: the `settlekit` command (`npx settlekit --help`) and its parts, for hosts that
 * embed it or add commands: {@link runCli}, {@link createProgram}, the progress bar and the
 * reconcile command's formatting.
 */
export type {
  ReconcileEngine,
  ReconcileFormat,
  ReconcileInput,
  ReconcileOptions,
  ReconcileSummary,
} from "./commands/reconcile.js";
export {
  defaultReconcileEngine,
  formatReconcileSummary,
  RECONCILE_FORMATS,
  reconcileExitCode,
  reconcileJson,
  reconcilePeriod,
  runReconcile,
  summaryOfRun,
} from "./commands/reconcile.js";
export type { WorkerCommandOptions, WorkerSignals } from "./commands/worker.js";
export { HARD_EXIT_GRACE_MS, processSignals, runWorker } from "./commands/worker.js";
export type { CreateSystem, WorkerConfig } from "./config.js";
export { DEFAULT_CONFIG } from "./config.js";
export type { OpenDatabase } from "./database.js";
export { databaseUrl, openDatabase } from "./database.js";
export type { ExitCodeValue } from "./exit-codes.js";
export { CliUsageError, ExitCode } from "./exit-codes.js";
export type { CliIo } from "./io.js";
export { formatTable } from "./io.js";
export type { CliOptions } from "./program.js";
export { createProgram, runCli } from "./program.js";
export type { Progress, ProgressOptions } from "./progress.js";
export { createProgress } from "./progress.js";
