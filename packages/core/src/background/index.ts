export { PSP_UNAVAILABLE } from "./job-handlers.js";
export type { SweepResult } from "./sweeper.js";
export type { WorkerOptions } from "./worker.js";
export { createWorker, runWorkerPass } from "./worker.js";
