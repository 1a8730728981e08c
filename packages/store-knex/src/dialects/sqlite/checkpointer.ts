import { once } from "node:events";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Worker } from "node:worker_threads";

/**
 * The code of the checkpoint thread: its own connection to the database file, running a PASSIVE
 * WAL checkpoint every `intervalMs`. PASSIVE never waits for or blocks the writer; it copies what
 * is committed into the database file (syncing it) so the WAL stays short.
 */
const THREAD = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driverPath);
const db = new Database(workerData.filename, { fileMustExist: true });
db.pragma("busy_timeout = 0");
let timer;
const tick = () => {
  try { db.pragma("wal_checkpoint(PASSIVE)"); } catch {}
  timer = setTimeout(tick, workerData.intervalMs);
};
parentPort.on("message", () => { clearTimeout(timer); db.close(); parentPort.close(); });
tick();
`;

interface Running {
  readonly worker: Worker;
  users: number;
}

const running = new Map<string, Running>();
/** Checkpoint threads that have not exited yet. */
let liveThreads = 0;

/** The file better-sqlite3 was loaded from (the host's copy, the one knex uses). */
function driverPath(driver: unknown): string | undefined {
  // `require.cache` is the process's one CommonJS module cache, whatever the base path given to
  // createRequire: a base that exists in both builds (not `import.meta.url`, which the CommonJS
  // build does not have) keeps this working under `import` and `require` alike.
  const cache = createRequire(join(process.cwd(), "settlekit-require-base.js")).cache;
  return Object.values(cache).find((m) => m?.exports === driver)?.filename;
}

/**
 * Moves WAL checkpoints off Node's main thread. With SQLite's automatic checkpoints, every
 * ~1 000 pages one commit also copies the WAL into the database file and syncs it — on the
 * thread that serves requests (better-sqlite3 is synchronous), so that commit (and everything
 * queued behind it) waits. Here one thread per database file and process checkpoints in the
 * background instead; the connections keep a large automatic threshold only as a backstop.
 * Durability does not change: commits are durable in the WAL either way.
 *
 * Returns a release function; when its last user releases it, the thread closes its connection
 * and exits, and the returned promise resolves after that (so the files can be removed). The
 * thread never keeps the process alive.
 */
export function startCheckpointer(filename: string, driver: unknown, intervalMs = 50): () => Promise<void> {
  let entry = running.get(filename);
  if (!entry) {
    const path = driverPath(driver);
    if (!path) return async () => {};
    const worker = new Worker(THREAD, { eval: true, workerData: { filename, driverPath: path, intervalMs } });
    worker.unref();
    liveThreads++;
    worker.once("exit", () => liveThreads--);
    worker.on("error", () => running.delete(filename)); // the backstop threshold takes over
    entry = { worker, users: 0 };
    running.set(filename, entry);
  }
  entry.users++;
  const current = entry;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    current.users--;
    if (current.users === 0 && running.get(filename) === current) {
      running.delete(filename);
      const exited = once(current.worker, "exit").catch(() => undefined);
      current.worker.postMessage("stop");
      // A thread that does not close in time is stopped (terminate is a no-op once it exited).
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
      await current.worker.terminate();
    }
  };
}

/** Database files with a checkpoint thread running in this process (for tests and diagnostics). */
export const checkpointedFiles = (): string[] => [...running.keys()];

/** Checkpoint threads of this process that have not exited yet (for tests and diagnostics). */
export const checkpointThreads = (): number => liveThreads;
